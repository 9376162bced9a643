// A version 2 whose buildRootObject never returns: the watchdog stops it.
export function buildRootObject(_vatPowers, _parameters, baggage) {
  baggage.set('count', -3);
  for (;;) {
    // The watchdog ends this.
  }
}
