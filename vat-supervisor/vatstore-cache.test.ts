import { describe, expect, it } from 'vitest';
import { VatstoreCache } from './vatstore-cache.ts';

/** A seeded PRNG (mulberry32), so a failing randomized run can be replayed. */
function makeRandom(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The obvious implementation, to check the real one against. */
class NaiveStore {
  values = new Map<string, string>();
  nextKey(prior: string): string | undefined {
    return [...this.values.keys()].sort().find((k) => k > prior);
  }
}

/** Keys from a small alphabet, so prefixes and neighbours collide often. */
function randomKey(random: () => number): string {
  const alphabet = ['a', 'b', 'c', '|', '.', 'Z', '0', '9', 'é', '\u{1F600}'];
  const length = 1 + Math.floor(random() * 4);
  let key = '';
  for (let i = 0; i < length; i++)
    key += alphabet[Math.floor(random() * alphabet.length)];
  return key;
}

function allKeys(cache: VatstoreCache): string[] {
  const keys: string[] = [];
  for (let k = cache.getNextKey(''); k !== undefined; k = cache.getNextKey(k))
    keys.push(k);
  return keys;
}

describe('VatstoreCache', () => {
  it('starts from the given state, in any order', () => {
    const cache = new VatstoreCache([
      ['b', '2'],
      ['a', '1'],
      ['c', '3'],
    ]);
    expect(cache.size).toBe(3);
    expect(cache.get('a')).toBe('1');
    expect(cache.get('missing')).toBeUndefined();
    expect(allKeys(cache)).toEqual(['a', 'b', 'c']);
    expect(cache.takeDelta()).toEqual({ sets: [], deletes: [] });
  });

  it('finds the next key strictly after a key that may not exist', () => {
    const cache = new VatstoreCache([
      ['vc.1.|a', 'x'],
      ['vc.1.|b', 'x'],
      ['vc.2.|a', 'x'],
    ]);
    expect(cache.getNextKey('vc.1.|a')).toBe('vc.1.|b');
    expect(cache.getNextKey('vc.1.')).toBe('vc.1.|a');
    expect(cache.getNextKey('vc.1.|b')).toBe('vc.2.|a');
    expect(cache.getNextKey('vc.2.|a')).toBeUndefined();
    expect(cache.getNextKey('')).toBe('vc.1.|a');
    expect(new VatstoreCache().getNextKey('')).toBeUndefined();
  });

  it('records the net change of a crank, sorted, and starts over', () => {
    const cache = new VatstoreCache([
      ['keep', 'k'],
      ['gone', 'g'],
      ['same', 's'],
      ['changed', 'c'],
    ]);
    cache.set('new', 'n');
    cache.set('changed', 'c1');
    cache.set('changed', 'c2');
    cache.delete('gone');
    cache.set('same', 'other');
    cache.set('same', 's'); // back to where it was
    cache.set('ephemeral', 'e');
    cache.delete('ephemeral'); // never existed before the crank
    cache.delete('never-existed');
    cache.set('z-readded', 'r');
    expect(cache.takeDelta()).toEqual({
      sets: [
        ['changed', 'c2'],
        ['new', 'n'],
        ['z-readded', 'r'],
      ],
      deletes: ['gone'],
    });
    expect(cache.takeDelta()).toEqual({ sets: [], deletes: [] });
    cache.delete('new');
    cache.set('gone', 'back');
    expect(cache.takeDelta()).toEqual({ sets: [['gone', 'back']], deletes: ['new'] });
  });

  it('reports a key deleted and set again to a new value as a set', () => {
    const cache = new VatstoreCache([['k', 'v1']]);
    cache.delete('k');
    cache.set('k', 'v2');
    expect(cache.takeDelta()).toEqual({ sets: [['k', 'v2']], deletes: [] });
    cache.delete('k');
    cache.set('k', 'v2');
    expect(cache.takeDelta()).toEqual({ sets: [], deletes: [] });
  });

  it('rejects non-string keys and values', () => {
    const cache = new VatstoreCache();
    expect(() => cache.set('k', 3 as unknown as string)).toThrow(/must be strings/);
  });

  it('matches a naive model under random writes and deletes during iteration', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = makeRandom(seed);
      const initial: [string, string][] = [];
      for (let i = 0; i < 300; i++) initial.push([randomKey(random), `v${i}`]);
      const cache = new VatstoreCache(initial);
      const model = new NaiveStore();
      for (const [k, v] of initial) model.values.set(k, v);
      let snapshot = new Map(model.values);

      for (let step = 0; step < 3000; step++) {
        const r = random();
        if (r < 0.35) {
          const key = randomKey(random);
          const value = `s${step}`;
          cache.set(key, value);
          model.values.set(key, value);
        } else if (r < 0.6) {
          // Delete an existing key most of the time, a missing one sometimes.
          const existing = [...model.values.keys()];
          const key =
            random() < 0.8 && existing.length
              ? (existing[Math.floor(random() * existing.length)] as string)
              : randomKey(random);
          cache.delete(key);
          model.values.delete(key);
        } else if (r < 0.95) {
          // Walk a stretch of keys, mutating around the cursor as liveslots' collection
          // iterators and clear() do.
          let cursor = randomKey(random);
          for (let i = 0; i < 10; i++) {
            const next = cache.getNextKey(cursor);
            expect(next, `seed ${seed} step ${step} after ${cursor}`).toBe(
              model.nextKey(cursor),
            );
            if (next === undefined) break;
            if (random() < 0.3) {
              cache.delete(next);
              model.values.delete(next);
            }
            if (random() < 0.2) {
              const key = randomKey(random);
              cache.set(key, 'during');
              model.values.set(key, 'during');
            }
            cursor = next;
          }
        } else {
          // End of a crank: the delta is exactly the difference from the last one.
          const delta = cache.takeDelta();
          const sets: [string, string][] = [];
          const deletes: string[] = [];
          const keys = new Set([...snapshot.keys(), ...model.values.keys()]);
          for (const key of [...keys].sort()) {
            const before = snapshot.get(key);
            const after = model.values.get(key);
            if (before === after) continue;
            if (after === undefined) deletes.push(key);
            else sets.push([key, after]);
          }
          expect(delta, `seed ${seed} step ${step}`).toEqual({ sets, deletes });
          snapshot = new Map(model.values);
        }
      }
      expect(allKeys(cache)).toEqual([...model.values.keys()].sort());
      expect(cache.size).toBe(model.values.size);
      for (const [k, v] of model.values) expect(cache.get(k)).toBe(v);
    }
  });

  it('keeps chunks bounded through growth and mass deletion', () => {
    const cache = new VatstoreCache();
    for (let i = 0; i < 20_000; i++) cache.set(`k${String(i).padStart(6, '0')}`, 'v');
    expect(Math.max(...cache.indexShape())).toBeLessThanOrEqual(512);
    for (let i = 0; i < 20_000; i++) {
      if (i % 50 !== 0) cache.delete(`k${String(i).padStart(6, '0')}`);
    }
    const shape = cache.indexShape();
    expect(shape.reduce((a, b) => a + b, 0)).toBe(400);
    expect(shape.every((n) => n > 0)).toBe(true);
    // Merging keeps the chunk count close to what 400 keys need, not what 20k needed.
    expect(shape.length).toBeLessThan(40);
    expect(allKeys(cache)).toHaveLength(400);
  });

  // No timing assertion: an O(n) scan per call would make this take minutes and trip the
  // test timeout, which is the regression this guards against.
  it('handles 100k keys while keys come and go during iteration', () => {
    const state: [string, string][] = [];
    for (let i = 0; i < 100_000; i++)
      state.push([`vc.5.|${String(i).padStart(7, '0')}`, 'x']);
    const cache = new VatstoreCache(state);
    // Iterate everything, deleting each key as it is visited and inserting a new one
    // beyond the end every other step (what clearing a big collection while it is
    // refilled looks like).
    let visited = 0;
    for (let k = cache.getNextKey('vc.5.|'); k?.startsWith('vc.5.|');) {
      const next = cache.getNextKey(k);
      cache.delete(k);
      if (visited % 2 === 0) cache.set(`vc.6.|${String(visited).padStart(7, '0')}`, 'y');
      visited += 1;
      k = next;
    }
    const delta = cache.takeDelta();
    expect(visited).toBe(100_000);
    expect(delta.deletes).toHaveLength(100_000);
    expect(delta.sets).toHaveLength(50_000);
    expect(Math.max(...cache.indexShape())).toBeLessThanOrEqual(512);
  });
});
