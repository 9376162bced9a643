/**
 * The kernel store: one sql.js database, and the only code that issues BEGIN, ROLLBACK
 * and COMMIT.
 *
 * - A crank runs between `beginCrank()` and `commitCrank()`/`abortCrank()`, as one SQL
 *   transaction of its own: it commits or rolls back whole, and between cranks none is
 *   open (so the database can be exported as a checkpoint at any point between them).
 * - The database is in memory; durability is the crank log's. The store records the net
 *   change of every row each committed crank made and keeps them until the commit gate
 *   takes them for the log (`takeChanges()`, once per crank or per group of cranks).
 *   Taking them is independent of the cranks, so a write can start while a crank is
 *   open: that crank's changes are not among them.
 * - Every write goes through `put`/`delete` on a table described in schema.ts, and only
 *   inside a crank, so the store can record the net change of each row.
 */
import type { Database, SqlJsStatic, SqlValue, Statement } from 'sql.js';
import {
  MIGRATIONS,
  SCHEMA_VERSION,
  TABLES,
  type TableDef,
  type TableName,
} from './schema.ts';

export { SCHEMA_VERSION, TABLES, type TableName } from './schema.ts';
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

export class KernelStore {
  readonly #db: Database;
  readonly #tables = new Map<TableName, TableStatements>();
  readonly #queries = new Map<string, Statement>();
  #inCrank = false;
  /** Net row changes of the open crank, by table and key. */
  #crankChanges = new Map<string, RowChange>();
  /** Net row changes of the committed cranks not yet taken for the log. */
  #pending = new Map<string, RowChange>();

  private constructor(db: Database) {
    this.#db = db;
    this.#configure();
    migrate(db);
    this.#prepareTables();
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

  beginCrank(): void {
    if (this.#inCrank) throw new StoreError('beginCrank: a crank is already open');
    this.#db.exec('BEGIN');
    this.#inCrank = true;
  }

  commitCrank(): void {
    this.#assertInCrank('commitCrank');
    this.#db.exec('COMMIT');
    this.#inCrank = false;
    for (const [id, change] of this.#crankChanges) this.#pending.set(id, change);
    this.#crankChanges = new Map();
  }

  abortCrank(): void {
    this.#assertInCrank('abortCrank');
    this.#db.exec('ROLLBACK');
    this.#inCrank = false;
    this.#crankChanges = new Map();
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
    const stmt = this.#table(table).get;
    try {
      stmt.bind(key);
      return stmt.step() ? stmt.get() : undefined;
    } finally {
      stmt.reset();
    }
  }

  put(table: TableName, row: Row): void {
    const t = this.#table(table);
    this.#assertInCrank(`put ${table}`);
    if (row.length !== t.def.columns.length) {
      throw new StoreError(
        `put ${table}: expected ${t.def.columns.length} columns, got ${row.length}`,
      );
    }
    t.put.run(row);
    const key = row.slice(0, t.def.keyColumns);
    this.#crankChanges.set(changeId(table, key), { table, key, row });
  }

  delete(table: TableName, key: Row): void {
    const t = this.#table(table);
    this.#assertInCrank(`delete ${table}`);
    t.delete.run(key);
    this.#crankChanges.set(changeId(table, key), { table, key, row: null });
  }

  /** Runs a read-only query (prepared once, parameters bound) and returns all rows. */
  all(sql: string, params: Row = []): Row[] {
    const stmt = this.#query(sql);
    const rows: Row[] = [];
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
    const stmt = this.#query(sql);
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
    if (!['SELECT', 'WITH', 'EXPLAIN', 'VALUES'].includes(keyword)) {
      throw new StoreError(
        `the SQL console is read-only: it runs SELECT, WITH, EXPLAIN and VALUES queries, not ${keyword === '' ? 'this' : keyword}`,
      );
    }
    let statements = 0;
    try {
      for (const stmt of this.#db.iterateStatements(sql)) {
        statements += 1;
        stmt.free();
      }
    } catch (error) {
      throw new StoreError(`query failed: ${messageOf(error)}`);
    }
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

  /** A byte image of the whole database (a checkpoint). Only between cranks. */
  export(): Uint8Array {
    if (this.#inCrank) throw new StoreError('export: a crank is open');
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
    this.#db.exec('PRAGMA journal_mode = MEMORY; PRAGMA foreign_keys = OFF;');
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

function changeId(table: string, key: Row): string {
  return key.length === 1
    ? `${table}\u0000${String(key[0])}`
    : JSON.stringify([table, key]);
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
