// A version of the ledger (vats/ledger.js) that cannot start: its buildRootObject throws
// before it redefines the Account kind, so an upgrade to it is rolled back and the
// version before it runs on.
export function buildRootObject() {
  throw Error('this ledger version is broken on purpose');
}
