/**
 * The panel's vatstore browser at scale: time to read one page (100 keys) of a vat's
 * vatstore holding 1k, 10k or 100k keys — the first page, a page deep in the store (by
 * `after` cursor) and a prefix search — through KernelState.readVatstore, the query the
 * `readVatstore` surface request runs. Prints a table and one JSON line.
 *
 *   npm run bench -- vatstore-paging [--sizes 1000,10000,100000] [--reps 200]
 */
import initSqlJs from 'sql.js';
import { KernelStore } from '../kernel/index.ts';
import { KernelState } from '../kernel/state/index.ts';
import { median, option } from './stats.ts';

const sizes = option('--sizes', '1000,10000,100000').split(',').map(Number);
const reps = Number(option('--reps', '200'));
const SQL = await initSqlJs();

const key = (i: number) => `vom.o+d10/${String(i).padStart(7, '0')}`;

function time(op: () => unknown): number {
  const samples: number[] = [];
  for (let i = 0; i < reps; i += 1) {
    const t0 = performance.now();
    op();
    samples.push(performance.now() - t0);
  }
  return median(samples);
}

const results: Record<string, { first: number; deep: number; prefix: number }> = {};
for (const size of sizes) {
  const store = KernelStore.open(SQL);
  const state = new KernelState(store);
  store.beginCrank();
  for (let i = 0; i < size; i += 1) {
    store.put('vatstore', ['v1', key(i), `{"body":"#${i}","slots":[]}`]);
  }
  // A few other prefixes, so the prefix search has something to skip.
  for (let i = 0; i < 100; i += 1) store.put('vatstore', ['v1', `vc.1.s${i}`, '1']);
  store.commitCrank();
  store.takeChanges();
  const deep = key(size - 150);
  results[size] = {
    first: time(() => state.readVatstore('v1', { limit: 100 })),
    deep: time(() => state.readVatstore('v1', { after: deep, limit: 100 })),
    prefix: time(() => state.readVatstore('v1', { prefix: 'vc.1.s', limit: 100 })),
  };
  store.close();
}
console.log(`ms per 100-key page (median of ${reps})`);
console.log('keys        first     deep    prefix');
for (const [size, r] of Object.entries(results)) {
  console.log(
    `${size.padEnd(9)} ${r.first.toFixed(3).padStart(7)} ${r.deep.toFixed(3).padStart(8)} ${r.prefix.toFixed(3).padStart(9)}`,
  );
}
console.log(JSON.stringify({ bench: 'vatstore-paging', reps, msPerPage: results }));
