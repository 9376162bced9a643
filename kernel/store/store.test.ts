import initSqlJs, { type SqlJsStatic } from 'sql.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { KernelStore, SCHEMA_VERSION, StoreError, UNWRITTEN_LIMIT } from './index.ts';
import { MIGRATIONS } from './schema.ts';
import { vatRow } from '../../test/fixtures/store-rows.ts';

let SQL: SqlJsStatic;
beforeAll(async () => {
  SQL = await initSqlJs();
});

const vatstoreRows = (store: KernelStore) =>
  store.all('SELECT vat_id, key, value FROM vatstore ORDER BY vat_id, key');

describe('KernelStore', () => {
  it('creates the current schema in a new database', () => {
    const store = KernelStore.open(SQL);
    expect(store.one('PRAGMA user_version')?.[0]).toBe(SCHEMA_VERSION);
    const tables = store
      .all("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .map((r) => r[0]);
    expect(tables).toEqual([
      'bundle_names',
      'bundles',
      'clist',
      'counters',
      'held_queue',
      'history_labels',
      'objects',
      'pins',
      'promise_queue',
      'promise_subscribers',
      'promises',
      'run_queue',
      'service_objects',
      'timers',
      'vat_versions',
      'vats',
      'vatstore',
    ]);
  });

  it('refuses writes outside a crank', () => {
    const store = KernelStore.open(SQL);
    expect(() => store.put('vatstore', ['v1', 'k', 'v'])).toThrow(/no crank is open/u);
  });

  it('rolls back an aborted crank and keeps earlier committed cranks', () => {
    const store = KernelStore.open(SQL);
    store.beginCrank();
    store.put('vatstore', ['v1', 'a', '1']);
    store.commitCrank();
    store.beginCrank();
    store.put('vatstore', ['v1', 'a', '2']);
    store.put('vatstore', ['v1', 'b', '3']);
    store.abortCrank();
    expect(vatstoreRows(store)).toEqual([['v1', 'a', '1']]);
    expect(store.takeChanges()).toEqual([
      { table: 'vatstore', key: ['v1', 'a'], row: ['v1', 'a', '1'] },
    ]);
  });

  it('keeps apart keys whose columns joined would read the same', () => {
    const store = KernelStore.open(SQL);
    store.beginCrank();
    store.put('vatstore', ['v1\u00001:a', 'b', 'first']);
    store.put('vatstore', ['v1', 'a\u0000b', 'second']);
    store.put('vatstore', ['v1\u0000a', 'b', 'third']);
    store.commitCrank();
    expect(vatstoreRows(store)).toEqual([
      ['v1', 'a\u0000b', 'second'],
      ['v1\u00001:a', 'b', 'first'],
      ['v1\u0000a', 'b', 'third'],
    ]);
    expect(store.takeChanges()).toHaveLength(3);
  });

  it('an aborted crank puts back each row as it was before the crank, however often the crank changed it', () => {
    const store = KernelStore.open(SQL);
    store.beginCrank();
    store.put('vats', vatRow({ vatId: 'v1', name: 'one' }));
    store.commitCrank();
    store.beginCrank();
    store.put('vats', vatRow({ vatId: 'v1', name: 'two' }));
    store.put('vats', vatRow({ vatId: 'v1', name: 'three' }));
    store.delete('vats', ['v1']);
    store.put('vats', vatRow({ vatId: 'v1', name: 'four' }));
    store.put('vats', vatRow({ vatId: 'v2', name: 'new' }));
    store.abortCrank();
    expect(store.get('vats', ['v1'])).toEqual(vatRow({ vatId: 'v1', name: 'one' }));
    expect(store.get('vats', ['v2'])).toBeUndefined();
    expect(store.lookup('vats', 'byName', ['one'])).toEqual([
      vatRow({ vatId: 'v1', name: 'one' }),
    ]);
    for (const name of ['two', 'three', 'four', 'new'])
      expect(store.lookup('vats', 'byName', [name])).toEqual([]);
    store.checkMemory();
  });

  it('a crank is its own transaction: an open one cannot be exported, an aborted one leaves nothing, a committed one is in the export', () => {
    const store = KernelStore.open(SQL);
    store.beginCrank();
    store.put('vatstore', ['v1', 'a', '1']);
    expect(() => store.export()).toThrow(StoreError);
    store.abortCrank();
    expect(vatstoreRows(KernelStore.open(SQL, store.export()))).toEqual([]);
    store.beginCrank();
    store.put('vatstore', ['v1', 'b', '2']);
    store.commitCrank();
    // Committed, though the log has not taken its changes yet.
    expect(store.hasPendingChanges).toBe(true);
    expect(vatstoreRows(KernelStore.open(SQL, store.export()))).toEqual([
      ['v1', 'b', '2'],
    ]);
  });

  it('reports the net change of each row over a group of cranks', () => {
    const store = KernelStore.open(SQL);
    store.beginCrank();
    store.put('vatstore', ['v1', 'a', '1']);
    store.put('vatstore', ['v1', 'b', '1']);
    store.commitCrank();
    store.beginCrank();
    store.put('vatstore', ['v1', 'a', '2']);
    store.delete('vatstore', ['v1', 'b']);
    store.put('counters', ['crank', 7]);
    store.commitCrank();
    const changes = store.takeChanges();
    expect(changes).toEqual([
      { table: 'vatstore', key: ['v1', 'a'], row: ['v1', 'a', '2'] },
      { table: 'vatstore', key: ['v1', 'b'], row: null },
      { table: 'counters', key: ['crank'], row: ['crank', 7] },
    ]);
    expect(store.takeChanges()).toEqual([]);
  });

  it('replays recorded changes into another database to the same rows', () => {
    const a = KernelStore.open(SQL);
    a.beginCrank();
    a.put('vatstore', ['v1', 'x', 'one']);
    a.put('vatstore', ['v2', 'y', 'two']);
    a.commitCrank();
    a.beginCrank();
    a.delete('vatstore', ['v1', 'x']);
    a.commitCrank();
    const changes = a.takeChanges();
    const b = KernelStore.open(SQL);
    b.beginCrank();
    b.applyChanges(changes);
    b.commitCrank();
    b.takeChanges();
    expect(vatstoreRows(b)).toEqual(vatstoreRows(a));
  });

  it('keeps working after an export (which resets sql.js statements)', () => {
    const store = KernelStore.open(SQL);
    store.export();
    store.beginCrank();
    store.put('vatstore', ['v1', 'k', 'v']);
    store.commitCrank();
    store.takeChanges();
    expect(store.get('vatstore', ['v1', 'k'])).toEqual(['v1', 'k', 'v']);
  });

  it('refuses a database from a newer schema version, naming both versions', () => {
    const db = new SQL.Database();
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    const image = db.export();
    expect(() => KernelStore.open(SQL, image)).toThrow(
      `the database has schema version ${SCHEMA_VERSION + 1}, newer than this Cask's ${SCHEMA_VERSION}`,
    );
  });
});

describe('KernelStore write-behind', () => {
  const put = (store: KernelStore, key: string, value: string) => {
    store.beginCrank();
    store.put('vatstore', ['v1', key, value]);
    store.put('counters', ['crank', key.length]);
    store.commitCrank();
  };

  it('a committed crank costs no statement until the rows are read in SQL', () => {
    const store = KernelStore.open(SQL);
    const before = store.statements;
    put(store, 'a', '1');
    put(store, 'b', '2');
    expect(store.statements).toBe(before);
    // Reads by key see them without SQL; a query writes them first.
    expect(store.get('vatstore', ['v1', 'a'])?.[2]).toBe('1');
    expect(store.get('counters', ['crank'])?.[1]).toBe(1);
    expect(store.statements).toBe(before);
    // The size sample reads two PRAGMAs and writes nothing behind.
    expect(store.databaseBytes()).toBeGreaterThan(0);
    expect(store.statements).toBe(before + 2);
    expect(vatstoreRows(store)).toEqual([
      ['v1', 'a', '1'],
      ['v1', 'b', '2'],
    ]);
    expect(store.statements).toBeGreaterThan(before);
    store.close();
  });

  it('a row written and deleted before the write is never written', () => {
    const store = KernelStore.open(SQL);
    put(store, 'gone', 'x');
    store.beginCrank();
    store.delete('vatstore', ['v1', 'gone']);
    store.commitCrank();
    const before = store.statements;
    expect(vatstoreRows(store)).toEqual([]);
    // BEGIN, the counter row, the delete of a row sql.js never had, COMMIT, the query.
    expect(store.statements - before).toBe(5);
    store.close();
  });

  it('an aborted crank loses none of the unwritten commits before it, even after a query in it', () => {
    const store = KernelStore.open(SQL);
    put(store, 'kept', '1');
    store.beginCrank();
    store.put('vatstore', ['v1', 'dropped', '2']);
    expect(vatstoreRows(store)).toEqual([
      ['v1', 'dropped', '2'],
      ['v1', 'kept', '1'],
    ]);
    store.abortCrank();
    expect(store.get('vatstore', ['v1', 'dropped'])).toBeUndefined();
    expect(vatstoreRows(store)).toEqual([['v1', 'kept', '1']]);
    store.close();
  });

  it('writes the unwritten rows at the commit that reaches the limit, and in every export', () => {
    const store = KernelStore.open(SQL);
    const before = store.statements;
    let cranks = 0;
    while (store.statements === before) put(store, `k${cranks++}`, 'v');
    // Each crank adds a vatstore row and rewrites the one counter row: the commit that
    // writes is the one whose rows (a new key and the counter) bring the total to the limit.
    expect(cranks).toBe(UNWRITTEN_LIMIT - 2);
    put(store, 'late', 'v');
    const copy = KernelStore.open(SQL, store.export());
    expect(vatstoreRows(copy)).toEqual(vatstoreRows(store));
    expect(copy.get('vatstore', ['v1', 'late'])?.[2]).toBe('v');
    copy.close();
    store.close();
  });

  it('a refused write at the limit leaves the crank open and the unwritten rows kept', () => {
    const store = KernelStore.open(SQL);
    for (let i = 0; i < UNWRITTEN_LIMIT - 10; i += 1) put(store, `k${i}`, 'v');
    store.beginCrank();
    for (let i = 0; i < 20; i += 1) store.put('vatstore', ['v1', `z${i}`, 'v']);
    // vats.state is CHECKed by the schema: sql.js refuses this row at the write.
    store.put('vats', vatRow({ vatId: 'v9', name: 'bad', state: 'no such state' }));
    expect(() => store.commitCrank()).toThrow(/CHECK constraint failed/);
    expect(store.inCrank).toBe(true);
    store.abortCrank();
    expect(store.get('vats', ['v9'])).toBeUndefined();
    expect(vatstoreRows(store)).toHaveLength(UNWRITTEN_LIMIT - 10);
    store.close();
  });
});

describe('KernelStore transactions when idle', () => {
  it('leaves no transaction open after a crank that was aborted with nothing else pending', async () => {
    const store = KernelStore.open(await initSqlJs());
    store.beginCrank();
    store.abortCrank();
    expect(store.export().length).toBeGreaterThan(0);
  });
});

describe('migration from schema version 1', () => {
  /** A database exactly as schema version 1 left it, with one vat of each state. */
  function versionOneImage(): Uint8Array {
    const db = new SQL.Database();
    db.exec(MIGRATIONS[0] as string);
    db.exec('PRAGMA user_version = 1');
    db.run('INSERT INTO vats VALUES (?,?,?,?,?,?,?,?,?,?)', [
      'v1',
      'alice',
      'b1',
      '{}',
      '[]',
      0,
      'running',
      'ko1',
      1,
      null,
    ]);
    db.run('INSERT INTO vats VALUES (?,?,?,?,?,?,?,?,?,?)', [
      'v2',
      'bob',
      'b1',
      '{}',
      '[]',
      2,
      'terminated',
      'ko2',
      3,
      'asked to',
    ]);
    const image = db.export();
    db.close();
    return image;
  }

  it('keeps every vat, its termination reason as its reason, and adds held_queue and pins', () => {
    const store = KernelStore.open(SQL, versionOneImage());
    expect(store.one('PRAGMA user_version')?.[0]).toBe(SCHEMA_VERSION);
    expect(store.all('SELECT * FROM pins')).toEqual([]);
    expect(store.all('SELECT * FROM vats ORDER BY vat_id')).toEqual([
      ['v1', 'alice', 'b1', '{}', '[]', 0, 'running', 'ko1', 1, null, null, null],
      ['v2', 'bob', 'b1', '{}', '[]', 2, 'terminated', 'ko2', 3, 'asked to', null, null],
    ]);
    expect(store.all('SELECT * FROM held_queue')).toEqual([]);
    // The new state is allowed now.
    store.beginCrank();
    store.put(
      'vats',
      vatRow({
        state: 'suspended',
        reason: 'why',
        deliveryTimeoutMs: 50,
        reapInterval: 0,
      }),
    );
    store.commitCrank();
  });

  it('replays a crank-log row written before the migration, padding the new columns', () => {
    const store = KernelStore.open(SQL, versionOneImage());
    store.beginCrank();
    store.applyChanges([
      {
        table: 'vats',
        key: ['v3'],
        row: ['v3', 'carol', 'b1', '{}', '[]', 0, 'running', 'ko3', 1, null],
      },
    ]);
    store.commitCrank();
    expect(store.one("SELECT * FROM vats WHERE vat_id = 'v3'")).toEqual([
      'v3',
      'carol',
      'b1',
      '{}',
      '[]',
      0,
      'running',
      'ko3',
      1,
      null,
      null,
      null,
    ]);
  });
});
