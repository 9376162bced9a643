// A ledger of accounts as durable objects in a durable MapStore: it keeps everything in
// the vatstore, nothing on the heap, so every account survives restarts.
import { Far } from '@endo/far';

/* global VatData */
const { defineDurableKind, makeKindHandle, makeScalarBigMapStore } = VatData;

export function buildRootObject(_vatPowers, _parameters, baggage) {
  if (!baggage.has('accountKind')) {
    baggage.init('accountKind', makeKindHandle('Account'));
    baggage.init('accounts', makeScalarBigMapStore('accounts', { durable: true }));
  }
  const accounts = baggage.get('accounts');
  // Re-defining the kind in every incarnation reconnects existing accounts to behaviour.
  const makeAccount = defineDurableKind(
    baggage.get('accountKind'),
    (owner) => ({ owner, balance: 0n }),
    {
      deposit({ state }, amount) {
        state.balance += amount;
        return state.balance;
      },
      withdraw({ state }, amount) {
        if (amount > state.balance) {
          throw Error(`insufficient funds: ${state.owner} has ${state.balance}`);
        }
        state.balance -= amount;
        return state.balance;
      },
      balance({ state }) {
        return state.balance;
      },
    },
  );
  const account = (owner) => {
    if (!accounts.has(owner)) accounts.init(owner, makeAccount(owner));
    return accounts.get(owner);
  };
  return Far('Ledger', {
    version: () => 1,
    openAccount: account,
    deposit: (owner, amount) => account(owner).deposit(BigInt(amount)),
    withdraw: (owner, amount) => account(owner).withdraw(BigInt(amount)),
    balances() {
      const result = {};
      for (const [owner, acct] of accounts.entries()) result[owner] = acct.balance();
      return harden(result);
    },
    owners: () => harden([...accounts.keys()]),
  });
}
