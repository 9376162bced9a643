// A version 2 whose buildRootObject never returns: the watchdog stops it.
export function buildRootObject(vatPowers, _parameters, baggage) {
  baggage.set('count', -3);
  vatPowers.testLog('version 2 spins');
  for (;;) {
    // The watchdog ends this.
  }
}
