/**
 * Chrome stops a service worker that has been idle for about 30 s, even while a crank
 * is running (messages over MessagePorts do not count as activity). An extension API
 * call resets that timer, so while the kernel has work one is made every 20 s; once the
 * kernel is idle Chrome may stop the worker again, and the next boot resumes from the
 * store.
 */
import type { Kernel } from '../../kernel/index.ts';

const INTERVAL_MS = 20_000;

export function keepAliveWhileBusy(): { busy(kernel: Kernel): void } {
  let timer: ReturnType<typeof setInterval> | undefined;
  return {
    busy(kernel) {
      if (timer !== undefined) return;
      timer = setInterval(() => void chrome.runtime.getPlatformInfo(), INTERVAL_MS);
      const stop = () => {
        clearInterval(timer);
        timer = undefined;
      };
      kernel.whenIdle().then(stop, stop);
    },
  };
}
