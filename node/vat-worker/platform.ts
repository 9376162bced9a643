/**
 * The Node side of the supervisor's platform: quiescence via the I/O queue, and GC for
 * liveslots' bringOutYourDead.
 */
import { Console } from 'node:console';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { SupervisorPlatform } from '../../vat-supervisor/index.ts';

export interface NodeSupervisorPlatformOptions {
  /** Whether vats whose config asks for `fetch` may have Node's. Default true. */
  offerFetch?: boolean | undefined;
  /** The kernel's store, for a paged vat (./page-channel.ts). */
  vatstorePages?: SupervisorPlatform['vatstorePages'];
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/u;

const nextMacrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

let engineGC: (() => void) | null | undefined;

/**
 * Node's `gc`: the global when run with --expose-gc, else the same V8 flag trick
 * SwingSet's Node workers use. Looked up on first use, so a vat that never runs
 * bringOutYourDead never flips the (process-wide) flag.
 */
function findEngineGC(): (() => void) | null {
  if (engineGC === undefined) {
    const exposed = (globalThis as { gc?: unknown }).gc;
    if (typeof exposed === 'function') {
      engineGC = exposed as () => void;
    } else {
      try {
        v8.setFlagsFromString('--expose_gc');
        const gc: unknown = vm.runInNewContext('gc');
        engineGC = typeof gc === 'function' ? (gc as () => void) : null;
      } catch {
        engineGC = null;
      }
    }
  }
  return engineGC;
}

export function makeNodeSupervisorPlatform(
  options: NodeSupervisorPlatformOptions = {},
): SupervisorPlatform {
  const { offerFetch = true, vatstorePages } = options;
  const hostGlobals: Record<string, unknown> = {};
  if (offerFetch && typeof globalThis.fetch === 'function') {
    // A frozen wrapper: the vat must not be able to replace the worker's fetch.
    const realFetch = globalThis.fetch;
    hostGlobals.fetch = harden((input: string | URL | Request, init?: RequestInit) =>
      realFetch(input, init),
    );
  }
  return {
    WeakRef,
    FinalizationRegistry,
    waitUntilQuiescent: nextMacrotask,
    async gcAndFinalize() {
      const gc = findEngineGC();
      if (gc === null) return;
      // Same sequence as liveslots' own Node tooling: an empty promise queue first
      // makes GC more thorough, and finalizers run on later macrotasks.
      await nextMacrotask();
      await nextMacrotask();
      gc();
      await nextMacrotask();
      await nextMacrotask();
    },
    hostGlobals: harden(hostGlobals),
    ...(vatstorePages && { vatstorePages }),
    // A view of the Buffer's bytes, not a copy: the archive reader only reads them.
    // Buffer skips what is not base64; the check keeps a damaged bundle's error clear.
    decodeBase64: (text) => {
      if (!BASE64.test(text))
        throw Error("the bundle's base64 holds a character outside it");
      const bytes = Buffer.from(text, 'base64');
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    },
    // Vats log to stderr: stdout belongs to the host (the CLI prints results there).
    console: new Console({ stdout: process.stderr, stderr: process.stderr }),
  };
}
