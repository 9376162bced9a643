/**
 * The cranks as the log remembers them: each record notes the cranks it holds (kind, vat,
 * method, target and result krefs, outcome, duration, delta size), so an inspector can
 * list them after any restart, as far back as the log is retained. The result's fate
 * comes from the log too: the first record that settles its promise.
 */
import type { CrankNote, DecodedRecord, History } from '../durability/index.ts';
import { capdataToJson } from '../marshal/index.ts';
import type { KernelState } from '../state/index.ts';

export type ResultState = 'unresolved' | 'fulfilled' | 'rejected';

/** A crank read back from the log. */
export interface LoggedCrank extends CrankNote {
  /** The record that holds it, and when that record was written (ms since the epoch). */
  seq: number;
  at?: number;
  /** Set when it was written with other cranks as one record (a group commit). */
  group?: { firstCrank: number; lastCrank: number };
  /** What became of its result: settled (in which crank, with what) or still unresolved. */
  resultState?: ResultState;
  settledIn?: number;
  resultValue?: unknown;
}

/** A crank's vatstore delta as the log holds it: each key's value before and after. */
export interface LoggedDelta {
  crank: number;
  vatId: string;
  seq: number;
  group?: { firstCrank: number; lastCrank: number };
  sets: Array<{ key: string; old: string | null; new: string }>;
  deletes: Array<{ key: string; old: string | null }>;
  /** False when an old value was not found in the retained log (shown as null). */
  oldKnown: boolean;
}

interface Settlement {
  state: 'fulfilled' | 'rejected';
  crank: number;
  value: unknown;
}

/** The promises table's columns: kpid, state, decider, refcount, data body, data slots. */
function settlementOf(row: readonly unknown[], crank: number): Settlement | undefined {
  const state = row[1];
  if (state !== 'fulfilled' && state !== 'rejected') return undefined;
  let value: unknown;
  try {
    const slots = typeof row[5] === 'string' ? (JSON.parse(row[5]) as string[]) : [];
    value = typeof row[4] === 'string' ? capdataToJson({ body: row[4], slots }) : null;
  } catch {
    value = row[4];
  }
  return { state, crank, value };
}

/** Every crank the retained log notes, newest first. */
export async function loggedCranks(
  history: History,
  state: KernelState,
): Promise<LoggedCrank[]> {
  const records = await history.records();
  const settlements = new Map<string, Settlement>();
  for (const record of records) {
    for (const change of record.changes) {
      if (change.table !== 'promises' || !change.row) continue;
      const kpid = String(change.key[0]);
      if (settlements.has(kpid)) continue;
      const settled = settlementOf(change.row, record.lastCrank);
      if (settled) settlements.set(kpid, settled);
    }
  }
  const out: LoggedCrank[] = [];
  for (const record of records) {
    for (const note of record.cranks ?? []) {
      const crank: LoggedCrank = {
        ...note,
        seq: record.seq,
        ...(record.time === undefined ? {} : { at: record.time }),
        ...(record.firstCrank !== record.lastCrank
          ? { group: { firstCrank: record.firstCrank, lastCrank: record.lastCrank } }
          : {}),
      };
      if (note.result) {
        // Settled in its own crank (noted), or later (the first record settling it).
        const settled = settlements.get(note.result);
        if (settled) {
          crank.resultState = settled.state;
          crank.settledIn = settled.crank;
          crank.resultValue = settled.value;
        } else if (
          note.resultState === 'unresolved' &&
          state.getPromise(note.result)?.state !== 'unresolved'
        ) {
          // Settled and collected in one record: the log kept no row of its state.
          delete crank.resultState;
        }
      }
      out.push(crank);
    }
  }
  return out.sort((a, b) => b.crank - a.crank);
}

/**
 * What `crank` changed in its vat's vatstore, from its log record; old values from the
 * state before that record (rebuilt from a checkpoint), else from earlier records.
 * Undefined when the log holds no such crank, or it delivered nothing (no delivery, a
 * rolled-back fault).
 */
export async function loggedDelta(
  history: History,
  crank: number,
): Promise<LoggedDelta | undefined> {
  const records = await history.records();
  const index = records.findIndex((r) => (r.cranks ?? []).some((n) => n.crank === crank));
  const record = records[index];
  const note = record?.cranks?.find((n) => n.crank === crank);
  // A crank that reached no vat, or was rolled back, changed no vatstore.
  if (!record || !note?.vatId || note.outcome !== 'ok') return undefined;
  const vatId = note.vatId;
  const mine = record.changes.filter(
    (c) => c.table === 'vatstore' && String(c.key[0]) === vatId,
  );
  const keys = mine.map((c) => String(c.key[1]));
  const old = await oldValues(history, records.slice(0, index), record, vatId, keys);
  const sets: LoggedDelta['sets'] = [];
  const deletes: LoggedDelta['deletes'] = [];
  for (const change of mine) {
    const key = String(change.key[1]);
    const before = old.values.get(key) ?? null;
    if (change.row) sets.push({ key, old: before, new: String(change.row[2]) });
    else deletes.push({ key, old: before });
  }
  return {
    crank,
    vatId,
    seq: record.seq,
    ...(record.firstCrank !== record.lastCrank
      ? { group: { firstCrank: record.firstCrank, lastCrank: record.lastCrank } }
      : {}),
    sets,
    deletes,
    oldKnown: old.known,
  };
}

async function oldValues(
  history: History,
  earlier: readonly DecodedRecord[],
  record: DecodedRecord,
  vatId: string,
  keys: readonly string[],
): Promise<{ values: Map<string, string | null>; known: boolean }> {
  const values = new Map<string, string | null>();
  try {
    const { store } = await history.stateAtSeq(record.seq - 1);
    try {
      for (const key of keys) {
        const row = store.one('SELECT value FROM vatstore WHERE vat_id = ? AND key = ?', [
          vatId,
          key,
        ]);
        values.set(key, row ? String(row[0]) : null);
      }
    } finally {
      store.close();
    }
    return { values, known: true };
  } catch {
    // The state before it cannot be rebuilt (its checkpoint is gone): the newest earlier
    // change of each key the log still holds.
    let known = true;
    for (const key of keys) {
      let found: string | null | undefined;
      for (let i = earlier.length - 1; i >= 0 && found === undefined; i -= 1) {
        const change = (earlier[i] as DecodedRecord).changes.find(
          (c) => c.table === 'vatstore' && String(c.key[0]) === vatId && c.key[1] === key,
        );
        if (change) found = change.row ? String(change.row[2]) : null;
      }
      if (found === undefined) known = false;
      values.set(key, found ?? null);
    }
    return { values, known };
  }
}
