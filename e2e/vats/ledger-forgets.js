// A broken next version of vats/ledger.js, for e2e upgrade tests: it reads the accounts
// from baggage but never defines the Account kind again, so liveslots refuses to start
// it and the upgrade is rolled back, version 1 running on.
import { Far } from '@endo/far';

export function buildRootObject(_vatPowers, _parameters, baggage) {
  const accounts = baggage.get('accounts');
  return Far('Ledger', {
    version: () => 99,
    owners: () => harden([...accounts.keys()]),
  });
}
