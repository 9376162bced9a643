// Version 2 of the ledger (vats/ledger.js), for an upgrade in place: the same accounts,
// kept in the vatstore, with a transfer between them. An upgrade must define every
// durable kind version 1 made again, in its first crank, from what baggage holds.
import { Far } from '@endo/far';

/* global VatData */
const { defineDurableKind } = VatData;

export function buildRootObject(_vatPowers, _parameters, baggage) {
  const accounts = baggage.get('accounts');
  // The same kind handle as version 1: existing accounts get this behaviour.
  defineDurableKind(baggage.get('accountKind'), (owner) => ({ owner, balance: 0n }), {
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
  });
  const balances = () => {
    const result = {};
    for (const [owner, acct] of accounts.entries()) result[owner] = acct.balance();
    return harden(result);
  };
  return Far('Ledger', {
    version: () => 2,
    deposit: (owner, amount) => accounts.get(owner).deposit(BigInt(amount)),
    withdraw: (owner, amount) => accounts.get(owner).withdraw(BigInt(amount)),
    transfer(from, to, amount) {
      accounts.get(from).withdraw(BigInt(amount));
      accounts.get(to).deposit(BigInt(amount));
      return harden({
        [from]: accounts.get(from).balance(),
        [to]: accounts.get(to).balance(),
      });
    },
    balances,
    owners: () => harden([...accounts.keys()]),
  });
}
