/**
 * The kernel's wall clock in the service worker: the real clock, plus a `chrome.alarms`
 * alarm set to the earliest due timer whenever it changes, so that Chrome starts a
 * stopped service worker when a timer comes due (docs/timers.md). The worker then boots
 * the kernel as it always does, and the kernel fires what is due. Unpacked extensions
 * have no 30 s minimum for alarms; a packed one's alarm may come up to 30 s late (the
 * kernel fires what is due whenever it wakes).
 *
 * Cancelling a wake-up leaves the alarm: the kernel cancels its host timer when it
 * re-arms (the new time replaces the alarm, which has one name) and when it shuts down,
 * where the alarm must stay to wake the next worker. An alarm with nothing due only
 * boots the kernel for nothing.
 */
import { realClock, type KernelClock } from '../../kernel/index.ts';

/** The alarm's name; one alarm stands for the earliest timer. */
export const TIMER_ALARM = 'cask-timers';

export function makeAlarmClock(): KernelClock {
  return {
    now: () => realClock.now(),
    wakeAt(at, fire) {
      chrome.alarms.create(TIMER_ALARM, { when: at }).catch((error: unknown) => {
        console.error('Cask: could not set the timer alarm:', error);
      });
      return realClock.wakeAt(at, fire);
    },
  };
}
