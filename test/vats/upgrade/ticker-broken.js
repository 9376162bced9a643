// A version of the ticker that arms a timer and then fails to start: its timer must
// never run, and must not replace the old version's.
export function buildRootObject(_vatPowers, _parameters, baggage) {
  setTimeout(() => baggage.set('journal', harden(['broken ran'])), 100);
  throw Error('the ticker is broken');
}
