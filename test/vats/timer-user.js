// A vat that uses the timer service and setTimeout, and logs what woke it, in order.
import { E, Far } from '@endo/far';

// Arguments come from outside as JSON: "5n" stands for 5n, in records too.
const big = (x) => {
  if (typeof x === 'string' && /^-?\d+n$/u.test(x)) return BigInt(x.slice(0, -1));
  if (typeof x === 'object' && x !== null && !Array.isArray(x)) {
    return harden(Object.fromEntries(Object.entries(x).map(([k, v]) => [k, big(v)])));
  }
  return x;
};

export function buildRootObject(vatPowers) {
  let timer;
  /** The other vat of the cluster: messages to it go through the kernel's run queue. */
  let other;
  const log = [];
  // Lines in order across both vats (testLog reaches the host's onVatLog).
  const journal = (line) => {
    log.push(line);
    vatPowers.testLog(line);
  };
  const tokens = new Map();
  const tokenOf = (name) => {
    if (!name) return undefined;
    if (!tokens.has(name)) tokens.set(name, Far('cancelToken', {}));
    return tokens.get(name);
  };
  const handler = (name, fail = false) =>
    Far('handler', {
      wake(time, info) {
        journal(info ? `${name}@${time} missed ${info.missed}` : `${name}@${time}`);
        if (fail) throw Error(`${name} does not want to wake`);
      },
    });
  const settled = (name, p) =>
    p.then(
      (time) => journal(`${name}@${time}`),
      (error) => journal(`${name} rejected: ${error.message}`),
    );
  const self = Far('root', {
    async bootstrap(vats, services) {
      timer = services.timer;
      other = vats.peer;
      if (other) await E(other).meet(self);
      return 'ready';
    },
    meet(peer) {
      other = peer;
    },
    now: () => E(timer).getCurrentTimestamp(),
    // A handler's wake-up at an absolute time (ms since the epoch).
    wakeAt(name, time, token) {
      // Its promise settles when the time comes; the call itself is answered at once.
      void E(timer).wakeAt(big(time), handler(name), tokenOf(token));
      return 'asked';
    },
    // Logs when the promise of wakeAt settles (no handler).
    wakePromise(name, time, token) {
      void settled(name, E(timer).wakeAt(big(time), undefined, tokenOf(token)));
      return 'asked';
    },
    setWakeup: (name, time) => E(timer).setWakeup(big(time), handler(name)),
    delay(name, ms, token) {
      void settled(name, E(timer).delay(big(ms), tokenOf(token)));
      return 'asked';
    },
    repeat: (name, delay, interval, fail = false, token = undefined) =>
      E(timer).repeatAfter(
        big(delay),
        big(interval),
        handler(name, fail),
        tokenOf(token),
      ),
    cancel: (token) => E(timer).cancel(tokenOf(token)),
    // Any call, with any arguments; resolves to the error message if refused.
    async raw(method, ...args) {
      try {
        await E(timer)[method](...args.map(big));
        return 'accepted';
      } catch (error) {
        return error.message;
      }
    },
    setTimeout(name, ms) {
      setTimeout(() => journal(`${name} (setTimeout)`), ms);
      return 'armed';
    },
    setInterval(name, ms, times) {
      let n = 0;
      const id = setInterval(() => {
        n += 1;
        journal(`${name} (setInterval ${n})`);
        if (n === times) clearInterval(id);
      }, ms);
      return 'armed';
    },
    clearedTimeout(name, ms) {
      const id = setTimeout(() => journal(`${name} (cleared, yet ran)`), ms);
      clearTimeout(id);
      return 'cleared';
    },
    // delay(0n) and a message to the other vat, in one crank: the message runs first.
    immediate() {
      void settled('delay(0n)', E(timer).delay(0n));
      void E(other).note('sent in the same crank');
      return 'asked';
    },
    note(text) {
      journal(text);
    },
    // A chain of n messages between the two vats, each sent by the one before (a busy
    // run queue).
    chain(n, i = 1) {
      journal(`chain ${i}`);
      if (i < n) void E(other).chain(n, i + 1);
    },
    log: () => harden([...log]),
  });
  return self;
}
