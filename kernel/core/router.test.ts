/**
 * The router decides where a send goes from the kernel state alone: tested over a real
 * store with objects and promises made by hand, no vats needed.
 */
import initSqlJs from 'sql.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { capdataToJson, kerror, kser, kslot } from '../marshal/index.ts';
import { KernelState, type KRef } from '../state/index.ts';
import { KernelStore } from '../store/index.ts';
import { methodOf, routeSend } from './router.ts';

const SQL = await initSqlJs();
let store: KernelStore;
let state: KernelState;

/** Makes a state change in a committed crank of its own. */
function change<T>(fn: () => T): T {
  store.beginCrank();
  const result = fn();
  store.commitCrank();
  store.takeChanges();
  return result;
}

const vat = (name: string) =>
  change(() =>
    state.createVat({
      name,
      bundleId: 'b',
      parameters: kser({}),
      globals: [],
    }),
  );

const resolveTo = (kpid: KRef, rejected: boolean, data = kser(null)) =>
  change(() => state.resolvePromise(kpid, rejected, data));

const rejectionOf = (route: ReturnType<typeof routeSend>) => {
  if (route.to !== 'reject') throw new Error(`expected a rejection, got ${route.to}`);
  return (capdataToJson(route.data) as { $error: string }).$error;
};

beforeEach(() => {
  store = KernelStore.open(SQL);
  store.checkState = process.env['CASK_CHECK_STATE'] === '1';
  state = new KernelState(store);
});

describe('routeSend', () => {
  it('sends to the vat that owns a live object', () => {
    const alice = vat('alice');
    expect(routeSend(state, alice.rootKref, 'hello')).toEqual({
      to: 'vat',
      vatId: alice.vatId,
      target: alice.rootKref,
    });
  });

  it('queues on an unresolved promise (pipelining)', () => {
    const kpid = change(() => state.createPromise('v1'));
    expect(routeSend(state, kpid, 'later')).toEqual({ to: 'promise', kpid });
  });

  it('follows a promise fulfilled with an object to that object', () => {
    const alice = vat('alice');
    const kpid = change(() => state.createPromise(null));
    resolveTo(kpid, false, kser(kslot(alice.rootKref, 'root')));
    expect(routeSend(state, kpid, 'm')).toEqual({
      to: 'vat',
      vatId: alice.vatId,
      target: alice.rootKref,
    });
  });

  it('takes a promise fulfilled with another promise as data: a send to it is rejected', () => {
    const [outer, inner] = change(() => [
      state.createPromise(null),
      state.createPromise(null),
    ]);
    resolveTo(outer as KRef, false, kser(kslot(inner as KRef)));
    expect(rejectionOf(routeSend(state, outer as KRef, 'm'))).toBe(
      `cannot send m to ${outer}: it resolved to a non-object`,
    );
  });

  it('rejects with the rejection of a rejected promise', () => {
    const kpid = change(() => state.createPromise(null));
    const reason = kerror('no luck');
    resolveTo(kpid, true, reason);
    expect(routeSend(state, kpid, 'm')).toEqual({
      to: 'reject',
      data: reason,
      vatId: null,
    });
  });

  it('rejects a send to a promise that resolved to data, naming the method', () => {
    const kpid = change(() => state.createPromise(null));
    resolveTo(kpid, false, kser(42));
    expect(rejectionOf(routeSend(state, kpid, 'frob'))).toBe(
      `cannot send frob to ${kpid}: it resolved to a non-object`,
    );
  });

  it('rejects a send to a promise the kernel does not have', () => {
    expect(rejectionOf(routeSend(state, 'kp404', 'm'))).toBe(
      'message to kp404: no such promise',
    );
  });

  it("rejects a send to a terminated vat's object, with the vat and its reason", () => {
    const alice = vat('alice');
    change(() => {
      const record = state.requireVat(alice.vatId);
      record.state = 'terminated';
      record.reason = 'asked to';
      state.putVat(record);
    });
    const route = routeSend(state, alice.rootKref, 'hello');
    expect(route).toMatchObject({ to: 'reject', vatId: alice.vatId });
    expect(rejectionOf(route)).toBe(
      `cannot deliver hello to ${alice.rootKref}: vat "alice" was terminated: asked to`,
    );
  });

  it("holds a send to a suspended vat's object for that vat", () => {
    const alice = vat('alice');
    change(() => {
      const record = state.requireVat(alice.vatId);
      record.state = 'suspended';
      record.reason = 'it broke the protocol';
      state.putVat(record);
    });
    expect(routeSend(state, alice.rootKref, 'hello')).toEqual({
      to: 'hold',
      vatId: alice.vatId,
    });
  });

  it('rejects a send to an abandoned object and to one that no longer exists', () => {
    const alice = vat('alice');
    const ko = change(() => state.createObject(alice.vatId));
    change(() => state.setObjectOwner(ko, null));
    expect(rejectionOf(routeSend(state, ko, 'm'))).toBe(
      `cannot deliver m to ${ko}: its vat abandoned it`,
    );
    expect(rejectionOf(routeSend(state, 'ko999', 'm'))).toBe(
      'cannot deliver m to ko999: the object no longer exists',
    );
  });

  it('changes nothing in the store', () => {
    const alice = vat('alice');
    const before = store.export();
    routeSend(state, alice.rootKref, 'hello');
    routeSend(state, 'kp404', 'm');
    expect(store.export()).toEqual(before);
  });
});

describe('methodOf', () => {
  it('reads the method from smallcaps methargs, escapes included', () => {
    expect(methodOf(kser(['increment', [1]]))).toBe('increment');
    expect(methodOf(kser(['say "hi"\\', []]))).toBe('say "hi"\\');
    expect(methodOf({ body: '#42', slots: [] })).toBeNull();
  });
});
