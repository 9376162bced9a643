/**
 * KernelStore.inspect: the panel's read-only SQL console. One statement, queries only,
 * and `query_only` while it runs, so that no phrasing of a write gets through; afterwards
 * the store writes as before.
 */
import initSqlJs, { type SqlJsStatic } from 'sql.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { vatRow } from '../../test/fixtures/store-rows.ts';
import { KernelStore, StoreError } from './index.ts';

let SQL: SqlJsStatic;
beforeAll(async () => {
  SQL = await initSqlJs();
});

const VAT_ROW = vatRow({ incarnation: 1 });

/** A store holding one vat and three vatstore rows, all committed. */
function seeded(): KernelStore {
  const store = KernelStore.open(SQL);
  store.beginCrank();
  store.put('vats', VAT_ROW);
  for (const [key, value] of [
    ['a', '1'],
    ['b', '2'],
    ['c', '3'],
  ]) {
    store.put('vatstore', ['v1', key as string, value as string]);
  }
  store.put('counters', ['crank', 2]);
  store.commitCrank();
  store.takeChanges();
  return store;
}

/** A crank write through the store's own path, committed: it must still be accepted. */
function writeCounter(store: KernelStore, value: number): void {
  store.beginCrank();
  store.put('counters', ['probe', value]);
  store.commitCrank();
  expect(store.takeChanges()).toEqual([
    { table: 'counters', key: ['probe'], row: ['probe', value] },
  ]);
  expect(store.get('counters', ['probe'])).toEqual(['probe', value]);
}

const refusal = (store: KernelStore, sql: string): unknown => {
  try {
    store.inspect(sql, 100);
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('KernelStore.inspect', () => {
  it('returns the column names and rows of a SELECT', () => {
    const store = seeded();
    expect(
      store.inspect(
        "SELECT key, value FROM vatstore WHERE vat_id = 'v1' ORDER BY key",
        100,
      ),
    ).toEqual({
      columns: ['key', 'value'],
      rows: [
        ['a', '1'],
        ['b', '2'],
        ['c', '3'],
      ],
      truncated: false,
    });
  });

  it('stops at maxRows and says the result was truncated', () => {
    const store = seeded();
    expect(store.inspect('SELECT key FROM vatstore ORDER BY key', 2)).toEqual({
      columns: ['key'],
      rows: [['a'], ['b']],
      truncated: true,
    });
  });

  it('is not truncated when the rows end exactly at maxRows', () => {
    const store = seeded();
    expect(store.inspect('SELECT key FROM vatstore ORDER BY key', 3)).toEqual({
      columns: ['key'],
      rows: [['a'], ['b'], ['c']],
      truncated: false,
    });
  });

  it('runs WITH, VALUES and EXPLAIN queries', () => {
    const store = seeded();
    expect(
      store.inspect('WITH x(n) AS (SELECT count(*) FROM vatstore) SELECT n FROM x', 10)
        .rows,
    ).toEqual([[3]]);
    expect(store.inspect('VALUES (1, 2)', 10).rows).toEqual([[1, 2]]);
    expect(store.inspect('EXPLAIN SELECT 1', 1000).rows.length).toBeGreaterThan(0);
  });

  it('accepts line and block comments, and any case, before a SELECT', () => {
    const store = seeded();
    const result = store.inspect(
      '  -- how many vats?\n/* a block\n comment */\n  select count(*) AS n FROM vats',
      10,
    );
    expect(result).toEqual({ columns: ['n'], rows: [[1]], truncated: false });
  });

  it.each([
    ['INSERT', "INSERT INTO counters (name, value) VALUES ('x', 1)"],
    ['UPDATE', "UPDATE vats SET state = 'terminated'"],
    ['DELETE', 'DELETE FROM vats'],
    ['DROP', 'DROP TABLE vats'],
    ['PRAGMA', 'PRAGMA query_only = 0'],
    ['ATTACH', "ATTACH DATABASE ':memory:' AS other"],
    ['BEGIN', 'BEGIN'],
  ])('refuses %s, saying the console is read-only', (keyword, sql) => {
    const store = seeded();
    const error = refusal(store, sql);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(/read-only/u);
    expect((error as Error).message).toContain(keyword);
    expect(store.all('SELECT * FROM vats')).toEqual([VAT_ROW]);
  });

  it('refuses a write hidden behind a comment: the keyword after the comment counts', () => {
    const store = seeded();
    expect(() => store.inspect('/* SELECT */ DELETE FROM vats', 10)).toThrow(
      /read-only.*DELETE/u,
    );
    expect(store.all('SELECT count(*) FROM vats')).toEqual([[1]]);
  });

  it('refuses an empty statement', () => {
    const store = seeded();
    expect(() => store.inspect('  -- nothing\n', 10)).toThrow(StoreError);
  });

  it('refuses two statements, even two queries', () => {
    const store = seeded();
    const error = refusal(store, 'SELECT 1; SELECT 2');
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(/one statement at a time; got 2/u);
  });

  it('refuses a query followed by a write, and runs neither', () => {
    const store = seeded();
    expect(() => store.inspect('SELECT 1; DELETE FROM vats', 10)).toThrow(
      /one statement at a time/u,
    );
    expect(store.all('SELECT * FROM vats')).toEqual([VAT_ROW]);
  });

  it('allows a trailing semicolon and comment after one statement', () => {
    const store = seeded();
    expect(store.inspect('SELECT 1 AS one; -- done', 10).rows).toEqual([[1]]);
  });

  it('refuses a write behind WITH (query_only stops it) and leaves the table unchanged', () => {
    const store = seeded();
    const error = refusal(store, 'WITH x AS (SELECT 1) DELETE FROM vats');
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(
      /read-only: the statement would write \(.*readonly database.*\)/u,
    );
    expect(store.all('SELECT * FROM vats')).toEqual([VAT_ROW]);
  });

  it('reports a syntax error as "SQL syntax error: …", naming SQLite\'s message', () => {
    const store = seeded();
    const error = refusal(store, 'SELECT FROM WHERE');
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(/^SQL syntax error: .*syntax error/u);
  });

  it('reports an error while stepping as "query failed: …"', () => {
    const store = seeded();
    expect(() => store.inspect('SELECT * FROM no_such_table', 10)).toThrow(
      /^query failed: no such table: no_such_table/u,
    );
  });

  it.each([
    ['a refused keyword', 'DELETE FROM vats'],
    ['two statements', 'SELECT 1; SELECT 2'],
    ['a write behind WITH', 'WITH x AS (SELECT 1) DELETE FROM vats'],
    ['a syntax error', 'SELECT FROM WHERE'],
    ['an error while stepping', 'SELECT * FROM no_such_table'],
  ])('still accepts crank writes after refusing %s', (_what, sql) => {
    const store = seeded();
    expect(() => store.inspect(sql, 10)).toThrow(StoreError);
    writeCounter(store, 1);
    writeCounter(store, 2);
  });

  it('still accepts crank writes after a successful query', () => {
    const store = seeded();
    store.inspect('SELECT * FROM vats', 10);
    writeCounter(store, 7);
  });

  it('leaves a transaction that holds committed cranks committable after a refusal', () => {
    const store = seeded();
    store.beginCrank();
    store.put('counters', ['pending', 1]);
    store.commitCrank();
    expect(() => store.inspect('WITH x AS (SELECT 1) DELETE FROM vats', 10)).toThrow(
      /would write/u,
    );
    // The query saw the uncommitted crank, as the kernel's next crank would.
    expect(
      store.inspect("SELECT value FROM counters WHERE name = 'pending'", 1).rows,
    ).toEqual([[1]]);
    expect(store.takeChanges()).toEqual([
      { table: 'counters', key: ['pending'], row: ['pending', 1] },
    ]);
    writeCounter(store, 3);
  });
});
