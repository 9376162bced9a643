// A durable reminder: on its first start it asks the timer service to wake it every
// `periodMs`; the handler is a durable object in baggage and the timer is stored by the
// kernel, so after a restart (of the vat, the kernel, the browser) it keeps firing. A
// wake-up that came due while the kernel was stopped arrives once, with the number of
// periods it missed.
/* global VatData */
import { E, Far } from '@endo/far';

export function buildRootObject(_vatPowers, parameters, baggage) {
  const kind = baggage.has('reminderKind')
    ? baggage.get('reminderKind')
    : VatData.makeKindHandle('Reminder');
  if (!baggage.has('reminderKind')) baggage.init('reminderKind', kind);

  // Redefined in every incarnation, as liveslots requires of a durable kind.
  const makeReminder = VatData.defineDurableKind(
    kind,
    (label) => ({ label, fires: 0, missed: 0, last: 0n, lastMissed: 0 }),
    {
      wake({ state }, time, { missed = 0 } = {}) {
        state.fires += 1;
        state.missed += missed;
        state.last = time;
        state.lastMissed = missed;
      },
      status({ state }) {
        const { label, fires, missed, last, lastMissed } = state;
        return harden({ label, fires, missed, last, lastMissed });
      },
    },
  );

  return Far('ReminderRoot', {
    async bootstrap(_vats, { timer }) {
      if (baggage.has('reminder')) return 'already scheduled';
      const periodMs = BigInt(parameters?.periodMs ?? 60_000);
      const reminder = makeReminder('reminder');
      baggage.init('reminder', reminder);
      baggage.init('timer', timer);
      await E(timer).repeatAfter(periodMs, periodMs, reminder);
      return 'scheduled';
    },
    status: () => baggage.get('reminder').status(),
  });
}
