// Alice: passes bob's objects and promises on to carol.
import { E, Far } from '@endo/far';

export function buildRootObject() {
  return Far('Introducer', {
    // Gets a greeter from bob and hands it to carol: a reference going A -> C through B.
    async introduce(bob, carol, greeting) {
      const greeter = await E(bob).makeGreeter(greeting);
      return E(carol).visit(greeter);
    },
    // Pipelines a send to the greeter bob has not made yet.
    pipeline(bob, greeting, who) {
      return E(E(bob).makeGreeter(greeting)).greet(who);
    },
    // The same, to a greeter bob makes only when asked to release it.
    pipelineLater(bob, greeting, who) {
      return E(E(bob).makeGreeterLater(greeting)).greet(who);
    },
    // Hands carol a promise that bob will settle.
    relay(bob, carol, value) {
      return E(carol).awaitIt(E(bob).later(value));
    },
    relayRejection(bob, carol, message) {
      return E(carol).catchIt(E(bob).fail(message));
    },
  });
}
