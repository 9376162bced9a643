/**
 * The kernel store: one sql.js database, and the only code that issues BEGIN, ROLLBACK
 * and COMMIT.
 *
 * - A crank runs between `beginCrank()` and `commitCrank()`/`abortCrank()` and commits or
 *   rolls back whole; between cranks no transaction is open and the database holds every
 *   committed crank (so it can be exported as a checkpoint at any point between them).
 * - The kernel's own tables (schema.ts, `cached`) live in memory too: every row, with the
 *   lookups the kernel makes on each crank (`lookup`, `first`, `count`). Reads are served
 *   from there; sql.js is not asked. A crank's writes change the memory copy at once
 *   (undone on abort) and wait in the crank buffer, which `commitCrank()` writes to
 *   sql.js in one transaction, one statement per changed row. A ping-pong delivery so
 *   costs a dozen statements instead of three dozen (docs/store.md).
 * - Queries in SQL (`all`, `one`, `inspect`) must see the open crank's writes: they write
 *   the buffer to sql.js first (inside the crank's transaction, rolled back on abort).
 *   Only rare queries (listing, termination, pins, timers, vatstores) take that path;
 *   every lookup a delivery makes has an in-memory index, so the buffer stays whole until
 *   commit. Indexes are simpler than keeping a second, ordered copy of every query.
 * - The database is in memory; durability is the crank log's. The store records the net
 *   change of every row each committed crank made and keeps them until the commit gate
 *   takes them for the log (`takeChanges()`, once per crank or per group of cranks).
 *   Taking them is independent of the cranks, so a write can start while a crank is
 *   open: that crank's changes are not among them.
 * - Every write goes through `put`/`delete` on a table described in schema.ts, and only
 *   inside a crank, so the store can record the net change of each row. Rows handed out
 *   are shared with the memory copy: callers never modify them.
 * - With `checkState` on (a debug switch the host sets), every commit and abort compares
 *   the memory copy with the tables and throws naming the first difference.
 */
import type { Database, SqlJsStatic, SqlValue, Statement } from 'sql.js';
import {
  MIGRATIONS,
  SCHEMA_VERSION,
  TABLES,
  type TableDef,
  type TableName,
} from './schema.ts';

export { QUEUE_ITEM_COLUMNS, SCHEMA_VERSION, TABLES, type TableName } from './schema.ts';
export type { SqlValue } from 'sql.js';

export type Row = SqlValue[];

/** The final state of one row after a group of cranks: the whole row, or null if deleted. */
export interface RowChange {
  table: TableName;
  key: Row;
  row: Row | null;
}

export class StoreError extends Error {
  override name = 'StoreError';
}

interface TableStatements {
  def: TableDef;
  get: Statement;
  put: Statement;
  delete: Statement;
}

type RowId = SqlValue;

interface MemoryIndex {
  columns: number[];
  buckets: Map<string, Map<RowId, Row>>;
}

/** The memory copy of a cached table. */
interface MemoryTable {
  def: TableDef;
  rows: Map<RowId, Row>;
  indexes: Map<string, MemoryIndex>;
  /** The keys in ascending order, for an `ordered` table. */
  order: number[] | undefined;
}

/** What the SQL console (`inspect`) runs: statements that only read. */
const QUERY_KEYWORDS: ReadonlySet<string> = new Set([
  'SELECT',
  'WITH',
  'EXPLAIN',
  'VALUES',
]);

/** The statements SQLite has besides queries: each would write or change the session. */
const WRITE_KEYWORDS: ReadonlySet<string> = new Set([
  'ALTER',
  'ANALYZE',
  'ATTACH',
  'BEGIN',
  'COMMIT',
  'CREATE',
  'DELETE',
  'DETACH',
  'DROP',
  'END',
  'INSERT',
  'PRAGMA',
  'REINDEX',
  'RELEASE',
  'REPLACE',
  'ROLLBACK',
  'SAVEPOINT',
  'UPDATE',
  'UPSERT',
  'VACUUM',
]);

/** How a write changed the memory copy, to undo it if the crank aborts. */
interface Undo {
  table: MemoryTable;
  id: RowId;
  key: Row;
  before: Row | undefined;
}

/** Unwritten rows (KernelStore.#unwritten) are written once a commit brings them to this many. */
export const UNWRITTEN_LIMIT = 1024;

export class KernelStore {
  readonly #db: Database;
  readonly #tables = new Map<TableName, TableStatements>();
  readonly #memory = new Map<TableName, MemoryTable>();
  readonly #queries = new Map<string, Statement>();
  #inCrank = false;
  /** Whether the open crank has begun its SQL transaction (it does so lazily). */
  #inTransaction = false;
  /** Net row changes of the open crank, by table and key: the crank buffer. */
  #crankChanges = new Map<string, RowChange>();
  /**
   * The open crank's changes made since the buffer was last written to sql.js (a query
   * in the crank writes it); undefined while none was written.
   */
  #sinceWritten: Map<string, RowChange> | undefined;
  /** The open crank's changes to the memory copy, oldest first. */
  #undo: Undo[] = [];
  /** Net row changes of the committed cranks not yet taken for the log. */
  #pending = new Map<string, RowChange>();
  /**
   * Net row changes of committed cranks not yet written to sql.js (write-behind). Most
   * rows a delivery writes are gone a crank or two later (a run-queue item, a promise
   * and its c-list entries), so writing them late writes most of them never. Written
   * before any query in SQL, an export, and in the commit that brings them to
   * UNWRITTEN_LIMIT.
   */
  #unwritten = new Map<string, RowChange>();
  /** Whether the open transaction holds #unwritten (written at its BEGIN). */
  #unwrittenInTransaction = false;
  /** SQL statements run so far (reads, writes and transaction control). */
  #statements = 0;
  /** Compare the memory copy with the tables after every crank (a debug switch). */
  checkState = false;

  private constructor(db: Database) {
    this.#db = db;
    this.#configure();
    migrate(db);
    this.#prepareTables();
    this.#loadMemory();
  }

  /** Opens a store from a database image (a checkpoint) or a new, empty one. */
  static open(SQL: SqlJsStatic, image?: Uint8Array): KernelStore {
    const db = new SQL.Database(image);
    try {
      return new KernelStore(db);
    } catch (error) {
      // An image that cannot be opened must not stay in sql.js's memory.
      db.close();
      throw error;
    }
  }

  get inCrank(): boolean {
    return this.#inCrank;
  }

  /** How many SQL statements the store has run (for tests and benchmarks). */
  get statements(): number {
    return this.#statements;
  }

  beginCrank(): void {
    if (this.#inCrank) throw new StoreError('beginCrank: a crank is already open');
    this.#inCrank = true;
  }

  /**
   * Commits the crank: its rows join the unwritten ones, or, once those reach
   * UNWRITTEN_LIMIT (or a query in the crank opened its transaction), all are written to
   * sql.js in one transaction. If sql.js refuses a row, that transaction is rolled back
   * and the crank stays open, for the caller to abort.
   */
  commitCrank(): void {
    this.#assertInCrank('commitCrank');
    const write =
      this.#inTransaction ||
      this.#unwritten.size + this.#crankChanges.size >= UNWRITTEN_LIMIT;
    if (write) {
      try {
        this.#writeBuffer();
        if (this.#inTransaction) this.#control('COMMIT');
      } catch (error) {
        this.#rollback();
        // The rolled-back transaction took any earlier part of the buffer with it.
        this.#sinceWritten = undefined;
        throw error;
      }
      if (this.#unwrittenInTransaction) this.#unwritten.clear();
      this.#unwrittenInTransaction = false;
    }
    for (const [id, change] of this.#crankChanges) {
      if (!write) this.#unwritten.set(id, change);
      this.#pending.set(id, change);
    }
    this.#inTransaction = false;
    this.#inCrank = false;
    this.#endCrank();
  }

  abortCrank(): void {
    this.#assertInCrank('abortCrank');
    this.#rollback();
    this.#inCrank = false;
    for (let i = this.#undo.length - 1; i >= 0; i -= 1) {
      const { table, id, key, before } = this.#undo[i] as Undo;
      setMemoryRow(table, id, key, before);
    }
    this.#endCrank();
  }

  /** Rolls back the open transaction, if any; the unwritten rows stay unwritten. */
  #rollback(): void {
    if (this.#inTransaction) this.#control('ROLLBACK');
    this.#inTransaction = false;
    this.#unwrittenInTransaction = false;
  }

  /** Opens a transaction, writing the unwritten rows first: it sees every commit. */
  #begin(): void {
    this.#control('BEGIN');
    this.#inTransaction = true;
    if (this.#unwritten.size > 0) {
      this.#unwrittenInTransaction = true;
      this.#writeChanges(this.#unwritten.values());
    }
  }

  /** Between cranks: writes the unwritten rows in a transaction of their own. */
  #writeUnwritten(): void {
    if (this.#unwritten.size === 0) return;
    try {
      this.#begin();
      this.#control('COMMIT');
    } catch (error) {
      this.#rollback();
      throw new StoreError(
        `sql.js refused rows of committed cranks (they stay in memory and in the log): ${messageOf(error)}`,
      );
    }
    this.#inTransaction = false;
    this.#unwrittenInTransaction = false;
    this.#unwritten.clear();
  }

  #endCrank(): void {
    this.#crankChanges = new Map();
    this.#sinceWritten = undefined;
    this.#undo = [];
    if (this.checkState) this.checkMemory();
  }

  /**
   * The net change of every row written by the cranks committed since the last call
   * (empty if none), for the crank log. A crank still open is not among them.
   */
  takeChanges(): RowChange[] {
    const changes = [...this.#pending.values()];
    this.#pending = new Map();
    return changes;
  }

  /** True when committed cranks have changes not yet taken by `takeChanges()`. */
  get hasPendingChanges(): boolean {
    return this.#pending.size > 0;
  }

  get(table: TableName, key: Row): Row | undefined {
    const memory = this.#memory.get(table);
    if (memory) return memory.rows.get(rowId(memory.def, key));
    // Not kept in memory: the crank's own write, else the table.
    const id = changeId(table, key);
    const change = this.#crankChanges.get(id) ?? this.#unwritten.get(id);
    if (change) return change.row ?? undefined;
    const stmt = this.#table(table).get;
    this.#statements += 1;
    try {
      stmt.bind(key);
      return stmt.step() ? stmt.get() : undefined;
    } finally {
      stmt.reset();
    }
  }

  /** The rows of a cached table whose `index` columns equal `values`, in no set order. */
  lookup(table: TableName, index: string, values: Row): Row[] {
    const found = this.#index(table, index).buckets.get(indexKey(values));
    return found ? [...found.values()] : [];
  }

  /** The row of an ordered table with the lowest key, if any. */
  first(table: TableName): Row | undefined {
    const memory = this.#cached(table);
    if (!memory.order) throw new StoreError(`first: table ${table} is not ordered`);
    const key = memory.order[0];
    return key === undefined ? undefined : memory.rows.get(key);
  }

  /** Every row of a cached table, in no set order. */
  rows(table: TableName): IterableIterator<Row> {
    return this.#cached(table).rows.values();
  }

  /** The number of rows in a cached table. */
  count(table: TableName): number {
    return this.#cached(table).rows.size;
  }

  put(table: TableName, row: Row): void {
    const t = this.#table(table);
    this.#assertInCrank(`put ${table}`);
    if (row.length !== t.def.columns.length) {
      throw new StoreError(
        `put ${table}: expected ${t.def.columns.length} columns, got ${row.length}`,
      );
    }
    const key = row.slice(0, t.def.keyColumns);
    this.#record(table, key, row);
  }

  delete(table: TableName, key: Row): void {
    this.#table(table);
    this.#assertInCrank(`delete ${table}`);
    this.#record(table, key, null);
  }

  #record(table: TableName, key: Row, row: Row | null): void {
    const id = changeId(table, key);
    const memory = this.#memory.get(table);
    if (memory) {
      const rid = rowId(memory.def, key);
      // Only a row's first change in the crank is undone: an abort puts back that before.
      if (!this.#crankChanges.has(id)) {
        this.#undo.push({ table: memory, id: rid, key, before: memory.rows.get(rid) });
      }
      setMemoryRow(memory, rid, key, row ?? undefined);
    }
    const change: RowChange = { table, key, row };
    this.#crankChanges.set(id, change);
    this.#sinceWritten?.set(id, change);
  }

  /** Writes the part of the crank buffer sql.js has not seen, in the crank's transaction. */
  #writeBuffer(): void {
    const changes = this.#sinceWritten ?? this.#crankChanges;
    if (changes.size === 0 && (this.#inTransaction || this.#unwritten.size === 0)) return;
    if (!this.#inTransaction) this.#begin();
    this.#writeChanges(changes.values());
    this.#sinceWritten = new Map();
  }

  #writeChanges(changes: Iterable<RowChange>): void {
    for (const { table, key, row } of changes) {
      const t = this.#table(table);
      this.#statements += 1;
      if (row) t.put.run(row);
      else t.delete.run(key);
    }
  }

  /** Before a query in SQL: every committed write, and the open crank's, must be in the tables it reads. */
  #beforeQuery(): void {
    if (this.#inCrank) this.#writeBuffer();
    else this.#writeUnwritten();
  }

  /** Runs a read-only query (prepared once, parameters bound) and returns all rows. */
  all(sql: string, params: Row = []): Row[] {
    this.#beforeQuery();
    const stmt = this.#query(sql);
    const rows: Row[] = [];
    this.#statements += 1;
    try {
      stmt.bind(params);
      while (stmt.step()) rows.push(stmt.get());
    } finally {
      stmt.reset();
    }
    return rows;
  }

  /** Like `all`, for a query that yields at most one row. */
  one(sql: string, params: Row = []): Row | undefined {
    this.#beforeQuery();
    const stmt = this.#query(sql);
    this.#statements += 1;
    try {
      stmt.bind(params);
      return stmt.step() ? stmt.get() : undefined;
    } finally {
      stmt.reset();
    }
  }
  /**
   * Runs one read-only statement typed by a person (the panel's SQL console) and returns
   * at most `maxRows` rows. Refused: more than one statement, anything but a query, and
   * (with `query_only` set while it runs) any statement that would write, however it is
   * phrased. The statement is compiled fresh and freed: it is not the store's own.
   */
  inspect(
    sql: string,
    maxRows: number,
  ): { columns: string[]; rows: Row[]; truncated: boolean } {
    const text = sql.replace(/^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/u, '');
    const keyword = /^[A-Za-z]+/u.exec(text)?.[0]?.toUpperCase() ?? '';
    const query = QUERY_KEYWORDS.has(keyword);
    const readOnly = (what: string) =>
      new StoreError(
        `the SQL console is read-only: it runs SELECT, WITH, EXPLAIN and VALUES queries, not ${what}`,
      );
    // A statement SQLite has but that is no query is refused before it is compiled.
    if (WRITE_KEYWORDS.has(keyword)) throw readOnly(keyword);
    // It sees what the open crank wrote, as the kernel's next read would.
    this.#beforeQuery();
    // Anything else is compiled first, so a typo (`SELEC 1`) is reported as sqlite's
    // syntax error, not as a refused write.
    let statements = 0;
    try {
      for (const stmt of this.#db.iterateStatements(sql)) {
        statements += 1;
        stmt.free();
      }
    } catch (error) {
      const message = messageOf(error);
      throw new StoreError(
        /syntax error|incomplete input|unrecognized token/iu.test(message)
          ? `SQL syntax error: ${message}`
          : `query failed: ${message}`,
      );
    }
    if (!query) throw readOnly(keyword === '' ? 'this' : keyword);
    if (statements !== 1) {
      throw new StoreError(
        `the SQL console runs one statement at a time; got ${statements}`,
      );
    }
    this.#db.run('PRAGMA query_only = 1');
    let stmt: Statement | undefined;
    try {
      stmt = this.#db.prepare(sql);
      const columns = stmt.getColumnNames();
      const rows: Row[] = [];
      let truncated = false;
      while (stmt.step()) {
        if (rows.length === maxRows) {
          truncated = true;
          break;
        }
        rows.push(stmt.get());
      }
      return { columns, rows, truncated };
    } catch (error) {
      const message = messageOf(error);
      if (/readonly database/iu.test(message)) {
        throw new StoreError(
          `the SQL console is read-only: the statement would write (${message})`,
        );
      }
      throw new StoreError(`query failed: ${message}`);
    } finally {
      stmt?.free();
      this.#db.run('PRAGMA query_only = 0');
    }
  }

  /**
   * Applies row changes read back from the crank log, as one crank. A row shorter than
   * its table was written before a migration appended columns: the new ones are null.
   */
  applyChanges(changes: readonly RowChange[]): void {
    for (const change of changes) {
      if (!Object.hasOwn(TABLES, change.table)) {
        throw new StoreError(`applyChanges: unknown table ${String(change.table)}`);
      }
      const { row } = change;
      if (!row) {
        this.delete(change.table, change.key);
        continue;
      }
      const width = TABLES[change.table].columns.length;
      this.put(
        change.table,
        row.length < width
          ? [...row, ...new Array<null>(width - row.length).fill(null)]
          : row,
      );
    }
  }

  /**
   * The database's size in bytes as sql.js holds it: rows still waiting to be written
   * behind (at most UNWRITTEN_LIMIT) are not in it yet. Read without writing them, so
   * that sampling the size does not write rows a later crank would have deleted.
   */
  databaseBytes(): number {
    const pragma = (sql: string) => {
      const stmt = this.#query(sql);
      this.#statements += 1;
      try {
        return stmt.step() ? Number(stmt.get()[0]) : 0;
      } finally {
        stmt.reset();
      }
    };
    return pragma('PRAGMA page_count') * pragma('PRAGMA page_size');
  }

  /** A byte image of the whole database (a checkpoint). Only between cranks. */
  export(): Uint8Array {
    if (this.#inCrank) throw new StoreError('export: a crank is open');
    this.#writeUnwritten();
    // sql.js's export() closes and reopens the database, which drops prepared statements.
    this.#freeStatements();
    const image = this.#db.export();
    this.#configure();
    this.#prepareTables();
    return image;
  }

  close(): void {
    this.#freeStatements();
    this.#db.close();
  }

  /**
   * Compares the memory copy of every cached table (its rows, indexes and order) with the
   * table in sql.js; throws naming the first difference. Only between cranks, and only
   * as a debug check: it reads every row.
   */
  checkMemory(): void {
    if (this.#inCrank) throw new StoreError('checkMemory: a crank is open');
    this.#writeUnwritten();
    for (const [name, memory] of this.#memory) {
      const { def } = memory;
      const what = `state check: table ${name}`;
      const sqlRows = this.#selectAll(def);
      const seen = new Set<RowId>();
      for (const row of sqlRows) {
        const key = row.slice(0, def.keyColumns);
        const id = rowId(def, key);
        seen.add(id);
        const mine = memory.rows.get(id);
        if (!mine) {
          throw new StoreError(
            `${what}: row ${JSON.stringify(key)} is in the table but not in memory: ${JSON.stringify(row)}`,
          );
        }
        if (!sameRow(mine, row)) {
          throw new StoreError(
            `${what}: row ${JSON.stringify(key)} is ${JSON.stringify(mine)} in memory but ${JSON.stringify(row)} in the table`,
          );
        }
      }
      for (const [id, row] of memory.rows) {
        if (!seen.has(id)) {
          throw new StoreError(
            `${what}: row ${JSON.stringify(row.slice(0, def.keyColumns))} is in memory but not in the table: ${JSON.stringify(row)}`,
          );
        }
      }
      const fresh = emptyMemory(def);
      for (const row of sqlRows) {
        const key = row.slice(0, def.keyColumns);
        setMemoryRow(fresh, rowId(def, key), key, row);
      }
      for (const [index, { buckets }] of fresh.indexes) {
        const mine = memory.indexes.get(index)?.buckets ?? new Map();
        for (const [value, rows] of buckets) {
          const held = mine.get(value);
          if (held?.size !== rows.size || [...rows.keys()].some((id) => !held.has(id))) {
            throw new StoreError(
              `${what}: index ${index} at ${JSON.stringify(value.split('\u0000'))} holds ${held?.size ?? 0} row(s) in memory, ${rows.size} in the table`,
            );
          }
        }
        if (mine.size !== buckets.size) {
          throw new StoreError(
            `${what}: index ${index} has ${mine.size} value(s) in memory, ${buckets.size} in the table`,
          );
        }
      }
      if (fresh.order && JSON.stringify(fresh.order) !== JSON.stringify(memory.order)) {
        throw new StoreError(
          `${what}: keys in order are ${JSON.stringify(memory.order)} in memory but ${JSON.stringify(fresh.order)} in the table`,
        );
      }
    }
  }

  /** Reads every cached table into memory (at open). */
  #loadMemory(): void {
    for (const name of Object.keys(TABLES) as TableName[]) {
      const def = TABLES[name];
      if (!def.cached) continue;
      const memory = emptyMemory(def);
      for (const row of this.#selectAll(def)) {
        const key = row.slice(0, def.keyColumns);
        setMemoryRow(memory, rowId(def, key), key, row);
      }
      this.#memory.set(name, memory);
    }
  }

  #selectAll(def: TableDef): Row[] {
    const keys = def.columns.slice(0, def.keyColumns).join(', ');
    const result = this.#db.exec(
      `SELECT ${def.columns.join(', ')} FROM ${def.name} ORDER BY ${keys}`,
    );
    this.#statements += 1;
    return result[0]?.values ?? [];
  }

  /** BEGIN, COMMIT or ROLLBACK, prepared once: compiling them each time costs more than a row. */
  #control(what: 'BEGIN' | 'COMMIT' | 'ROLLBACK'): void {
    this.#statements += 1;
    this.#query(what).run();
  }

  #cached(table: TableName): MemoryTable {
    const memory = this.#memory.get(table);
    if (!memory) throw new StoreError(`table ${String(table)} is not kept in memory`);
    return memory;
  }

  #index(table: TableName, name: string): MemoryIndex {
    const index = this.#cached(table).indexes.get(name);
    if (!index) throw new StoreError(`table ${String(table)} has no index ${name}`);
    return index;
  }

  #freeStatements(): void {
    for (const t of this.#tables.values()) {
      t.get.free();
      t.put.free();
      t.delete.free();
    }
    for (const stmt of this.#queries.values()) stmt.free();
    this.#queries.clear();
  }

  #configure(): void {
    // The database lives in memory; durability is the crank log's job, not SQLite's.
    // Nothing else opens the file, so one lock held throughout spares every transaction
    // re-reading the header and dropping the page cache (half the cost of a commit).
    this.#db.exec(
      'PRAGMA journal_mode = MEMORY; PRAGMA foreign_keys = OFF; PRAGMA locking_mode = EXCLUSIVE;',
    );
  }

  #prepareTables(): void {
    for (const name of Object.keys(TABLES) as TableName[]) {
      const def = TABLES[name];
      const cols = def.columns.join(', ');
      const where = def.columns
        .slice(0, def.keyColumns)
        .map((c) => `${c} = ?`)
        .join(' AND ');
      const marks = def.columns.map(() => '?').join(', ');
      this.#tables.set(name, {
        def,
        get: this.#db.prepare(`SELECT ${cols} FROM ${def.name} WHERE ${where}`),
        put: this.#db.prepare(
          `INSERT OR REPLACE INTO ${def.name} (${cols}) VALUES (${marks})`,
        ),
        delete: this.#db.prepare(`DELETE FROM ${def.name} WHERE ${where}`),
      });
    }
  }

  #query(sql: string): Statement {
    let stmt = this.#queries.get(sql);
    if (!stmt) {
      stmt = this.#db.prepare(sql);
      this.#queries.set(sql, stmt);
    }
    return stmt;
  }

  #table(name: TableName): TableStatements {
    const t = this.#tables.get(name);
    if (!t) throw new StoreError(`unknown table ${String(name)}`);
    return t;
  }

  #assertInCrank(what: string): void {
    if (!this.#inCrank) throw new StoreError(`${what}: no crank is open`);
  }
}

function emptyMemory(def: TableDef): MemoryTable {
  const indexes = new Map<string, MemoryIndex>();
  for (const [name, columns] of Object.entries(def.indexes)) {
    indexes.set(name, {
      columns: columns.map((c) => def.columns.indexOf(c)),
      buckets: new Map(),
    });
  }
  return { def, rows: new Map(), indexes, order: def.ordered ? [] : undefined };
}

/** A row's id in its table's memory copy: the key itself, or its columns joined. */
function rowId(def: TableDef, key: Row): RowId {
  return def.keyColumns === 1 ? (key[0] as RowId) : indexKey(key);
}

/** A row's value in an index over `columns` (indexKey of those columns). */
function indexOf(columns: readonly number[], row: Row): string {
  // One column, the usual index: no array made for it.
  return columns.length === 1
    ? String(row[columns[0] as number])
    : indexKey(columns.map((c) => row[c] as SqlValue));
}

function indexKey(values: Row): string {
  return values.length === 1 ? String(values[0]) : values.map(String).join('\u0000');
}

/** Sets (or, with undefined, deletes) one row of a memory copy, with its indexes and order. */
function setMemoryRow(
  memory: MemoryTable,
  id: RowId,
  key: Row,
  row: Row | undefined,
): void {
  const before = memory.rows.get(id);
  if (before === undefined && row === undefined) return;
  for (const { columns, buckets } of memory.indexes.values()) {
    const was = before === undefined ? undefined : indexOf(columns, before);
    const is = row === undefined ? undefined : indexOf(columns, row);
    if (was !== undefined && was !== is) {
      const bucket = buckets.get(was);
      bucket?.delete(id);
      if (bucket?.size === 0) buckets.delete(was);
    }
    if (is !== undefined && row !== undefined) {
      // The usual update (a refcount, a flag) keeps its bucket: only the row is new.
      let bucket = buckets.get(is);
      if (!bucket) buckets.set(is, (bucket = new Map()));
      bucket.set(id, row);
    }
  }
  if (row === undefined) memory.rows.delete(id);
  else memory.rows.set(id, row);
  const { order } = memory;
  if (order && (before === undefined) !== (row === undefined)) {
    const k = key[0] as number;
    if (row !== undefined) insertSorted(order, k);
    else removeSorted(order, k);
  }
}

/** Adds `k` to an ascending array; new keys are usually the highest, so that is checked first. */
function insertSorted(order: number[], k: number): void {
  const last = order[order.length - 1];
  if (last === undefined || last < k) {
    order.push(k);
    return;
  }
  order.splice(lowerBound(order, k), 0, k);
}

/** Removes `k` from an ascending array; the lowest key is the usual one. */
function removeSorted(order: number[], k: number): void {
  if (order[0] === k) {
    order.shift();
    return;
  }
  const i = lowerBound(order, k);
  if (order[i] === k) order.splice(i, 1);
}

function lowerBound(order: number[], k: number): number {
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((order[mid] as number) < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sameRow(a: Row, b: Row): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x instanceof Uint8Array && y instanceof Uint8Array) {
      if (x.length !== y.length || x.some((v, j) => v !== y[j])) return false;
      continue;
    }
    return false;
  }
  return true;
}

function changeId(table: string, key: Row): string {
  if (key.length === 1) return `${table}\u0000${String(key[0])}`;
  // Each column but the last carries its length, so that no two keys meet (a vatstore
  // key may hold any character); cheaper than JSON for the kernel's many c-list rows.
  let id = table;
  for (let i = 0; i < key.length - 1; i += 1) {
    const column = String(key[i]);
    id += `\u0000${column.length}:${column}`;
  }
  return `${id}\u0000${String(key[key.length - 1])}`;
}

/** Brings a database to SCHEMA_VERSION, or refuses one written by a newer Cask. */
function migrate(db: Database): void {
  const version = Number(db.exec('PRAGMA user_version')[0]?.values[0]?.[0] ?? 0);
  if (version > SCHEMA_VERSION) {
    throw new StoreError(
      `the database has schema version ${version}, newer than this Cask's ${SCHEMA_VERSION}; upgrade Cask to open it`,
    );
  }
  for (let v = version; v < SCHEMA_VERSION; v += 1) {
    db.exec('BEGIN');
    try {
      db.exec(MIGRATIONS[v] as string);
      db.exec(`PRAGMA user_version = ${v + 1}`);
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw new StoreError(
        `migration to schema version ${v + 1} failed: ${String(error)}`,
      );
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
