/**
 * The kernel database schema. One database holds everything; the version lives in
 * SQLite's `user_version`. docs/store.md explains each table; a test keeps the two in step.
 *
 * Every table a crank may write is described in TABLES, so that writes go through one
 * generic path that records the exact rows a crank changed (the crank log replays them).
 */

export const SCHEMA_VERSION = 4;

export const SCHEMA_V1 = `
CREATE TABLE counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE bundles (
  bundle_id TEXT PRIMARY KEY,
  bundle TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE vats (
  vat_id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  bundle_id TEXT NOT NULL,
  parameters TEXT NOT NULL,
  globals TEXT NOT NULL,
  incarnation INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('running', 'terminated')),
  root_kref TEXT NOT NULL,
  next_import INTEGER NOT NULL,
  termination_reason TEXT
) WITHOUT ROWID;

CREATE TABLE clist (
  vat_id TEXT NOT NULL,
  kref TEXT NOT NULL,
  vref TEXT NOT NULL,
  reachable INTEGER NOT NULL CHECK (reachable IN (0, 1)),
  PRIMARY KEY (vat_id, kref)
) WITHOUT ROWID;
CREATE UNIQUE INDEX clist_by_vref ON clist (vat_id, vref);

CREATE TABLE objects (
  kref TEXT PRIMARY KEY,
  owner_vat TEXT,
  reachable INTEGER NOT NULL,
  recognizable INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE promises (
  kpid TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('unresolved', 'fulfilled', 'rejected')),
  decider_vat TEXT,
  refcount INTEGER NOT NULL,
  data_body TEXT,
  data_slots TEXT
) WITHOUT ROWID;

CREATE TABLE promise_subscribers (
  kpid TEXT NOT NULL,
  vat_id TEXT NOT NULL,
  PRIMARY KEY (kpid, vat_id)
) WITHOUT ROWID;

CREATE TABLE promise_queue (
  kpid TEXT NOT NULL,
  seq INTEGER NOT NULL,
  methargs_body TEXT NOT NULL,
  methargs_slots TEXT NOT NULL,
  result_kpid TEXT,
  PRIMARY KEY (kpid, seq)
) WITHOUT ROWID;

CREATE TABLE run_queue (
  seq INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  vat_id TEXT,
  target TEXT,
  methargs_body TEXT,
  methargs_slots TEXT,
  result_kpid TEXT,
  krefs TEXT
);

CREATE TABLE vatstore (
  vat_id TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (vat_id, key)
) WITHOUT ROWID;
`;

/**
 * Version 2: a vat can be suspended (stopped with its state kept, after a fault) and has
 * its own delivery deadline; messages for a suspended vat wait in `held_queue`.
 *
 * Migrations may only add tables and append nullable columns: a crank-log record written
 * before a migration holds rows of the older shape, and replay pads them with nulls
 * (KernelStore.applyChanges).
 */
export const SCHEMA_V2 = `
CREATE TABLE vats_v2 (
  vat_id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  bundle_id TEXT NOT NULL,
  parameters TEXT NOT NULL,
  globals TEXT NOT NULL,
  incarnation INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('running', 'suspended', 'terminated')),
  root_kref TEXT NOT NULL,
  next_import INTEGER NOT NULL,
  reason TEXT,
  delivery_timeout_ms INTEGER
) WITHOUT ROWID;
INSERT INTO vats_v2
  SELECT vat_id, name, bundle_id, parameters, globals, incarnation, state, root_kref,
    next_import, termination_reason, NULL
  FROM vats;
DROP TABLE vats;
ALTER TABLE vats_v2 RENAME TO vats;

CREATE TABLE held_queue (
  seq INTEGER PRIMARY KEY,
  held_for TEXT NOT NULL,
  kind TEXT NOT NULL,
  vat_id TEXT,
  target TEXT,
  methargs_body TEXT,
  methargs_slots TEXT,
  result_kpid TEXT,
  krefs TEXT
);
CREATE INDEX held_queue_by_vat ON held_queue (held_for, seq);
`;

/**
 * Version 3: krefs an outside caller (the CLI, the panel) was handed stay reachable until
 * that caller releases them (`seq` orders a caller's pins, oldest first); kernel objects
 * that stand for a kernel service rather than a vat's export; bundles by name; a vat's
 * own reap interval (null: the kernel's; 0: never).
 */
export const SCHEMA_V3 = `
CREATE TABLE service_objects (
  kref TEXT PRIMARY KEY,
  service TEXT NOT NULL,
  facet TEXT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX service_objects_by_facet ON service_objects (service, facet);

ALTER TABLE vats ADD COLUMN reap_interval INTEGER;

CREATE TABLE bundle_names (
  name TEXT PRIMARY KEY,
  bundle_id TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE pins (
  caller TEXT NOT NULL,
  kref TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (caller, kref)
) WITHOUT ROWID;
CREATE INDEX pins_by_age ON pins (caller, seq);
`;

/**
 * Version 4: a vat's code versions (one row per upgrade, and the version it was created
 * with); the timer service's pending wake-ups; the vat that sent a queued message (kernel
 * services count what each vat asked of them).
 */
export const SCHEMA_V4 = `
CREATE TABLE vat_versions (
  vat_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  incarnation INTEGER NOT NULL,
  bundle_id TEXT NOT NULL,
  parameters TEXT NOT NULL,
  crank INTEGER,
  PRIMARY KEY (vat_id, version)
) WITHOUT ROWID;
INSERT INTO vat_versions
  SELECT vat_id, 1, 0, bundle_id, parameters, NULL FROM vats;

CREATE TABLE timers (
  timer_id INTEGER PRIMARY KEY,
  owner_vat TEXT,
  due INTEGER NOT NULL,
  interval INTEGER,
  handler TEXT,
  result_kpid TEXT,
  cancel_token TEXT
);
CREATE INDEX timers_by_due ON timers (due, timer_id);
CREATE INDEX timers_by_owner ON timers (owner_vat);
CREATE INDEX timers_by_token ON timers (cancel_token);

ALTER TABLE run_queue ADD COLUMN sender TEXT;
ALTER TABLE held_queue ADD COLUMN sender TEXT;
ALTER TABLE promise_queue ADD COLUMN sender TEXT;

CREATE TABLE history_labels (
  name TEXT PRIMARY KEY,
  crank INTEGER NOT NULL,
  seq INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** Migrations from version N-1 to N, in order; index 0 creates version 1 from empty. */
export const MIGRATIONS: readonly string[] = [SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4];

export interface TableDef {
  readonly name: string;
  readonly columns: readonly string[];
  /** Leading columns of `columns` that form the primary key. */
  readonly keyColumns: number;
  /**
   * Whether the store keeps every row in memory and serves reads from there (the kernel's
   * own tables, small and read on every crank). Vatstores and bundles are not: they are
   * the bulk of the database, each vat keeps its own vatstore in memory, and the kernel
   * reads them rarely.
   */
  readonly cached: boolean;
  /**
   * In-memory lookups of a cached table by other columns than its key (name → columns),
   * the ones the kernel makes on every crank (KernelStore.lookup).
   */
  readonly indexes: Readonly<Record<string, readonly string[]>>;
  /** A cached table with one integer key whose lowest row the kernel asks for (KernelStore.first). */
  readonly ordered: boolean;
}

function table(
  name: string,
  keyColumns: number,
  columns: readonly string[],
  options: {
    cached?: boolean;
    indexes?: Record<string, string[]>;
    ordered?: boolean;
  } = {},
): TableDef {
  const { cached = true, indexes = {}, ordered = false } = options;
  return Object.freeze({
    name,
    keyColumns,
    columns: Object.freeze(columns),
    cached,
    indexes: Object.freeze(indexes),
    ordered,
  });
}

/** A queued item's columns (all but its seq), alike in run_queue and held_queue. */
export const QUEUE_ITEM_COLUMNS: readonly string[] = Object.freeze([
  'kind',
  'vat_id',
  'target',
  'methargs_body',
  'methargs_slots',
  'result_kpid',
  'krefs',
  'sender',
]);

export const TABLES = {
  counters: table('counters', 1, ['name', 'value']),
  bundles: table('bundles', 1, ['bundle_id', 'bundle'], { cached: false }),
  vats: table(
    'vats',
    1,
    [
      'vat_id',
      'name',
      'bundle_id',
      'parameters',
      'globals',
      'incarnation',
      'state',
      'root_kref',
      'next_import',
      'reason',
      'delivery_timeout_ms',
      'reap_interval',
    ],
    { indexes: { byName: ['name'] } },
  ),
  clist: table('clist', 2, ['vat_id', 'kref', 'vref', 'reachable'], {
    indexes: { byVref: ['vat_id', 'vref'], byKref: ['kref'] },
  }),
  objects: table('objects', 1, ['kref', 'owner_vat', 'reachable', 'recognizable']),
  promises: table('promises', 1, [
    'kpid',
    'state',
    'decider_vat',
    'refcount',
    'data_body',
    'data_slots',
  ]),
  promise_subscribers: table('promise_subscribers', 2, ['kpid', 'vat_id'], {
    indexes: { byKpid: ['kpid'] },
  }),
  promise_queue: table(
    'promise_queue',
    2,
    ['kpid', 'seq', 'methargs_body', 'methargs_slots', 'result_kpid', 'sender'],
    { indexes: { byKpid: ['kpid'] } },
  ),
  run_queue: table('run_queue', 1, ['seq', ...QUEUE_ITEM_COLUMNS], { ordered: true }),
  held_queue: table('held_queue', 1, ['seq', 'held_for', ...QUEUE_ITEM_COLUMNS]),
  vatstore: table('vatstore', 2, ['vat_id', 'key', 'value'], { cached: false }),
  pins: table('pins', 2, ['caller', 'kref', 'seq']),
  service_objects: table('service_objects', 1, ['kref', 'service', 'facet'], {
    indexes: { byFacet: ['service', 'facet'] },
  }),
  bundle_names: table('bundle_names', 1, ['name', 'bundle_id']),
  vat_versions: table('vat_versions', 2, [
    'vat_id',
    'version',
    'incarnation',
    'bundle_id',
    'parameters',
    'crank',
  ]),
  timers: table(
    'timers',
    1,
    [
      'timer_id',
      'owner_vat',
      'due',
      'interval',
      'handler',
      'result_kpid',
      'cancel_token',
    ],
    { indexes: { byOwner: ['owner_vat'], byToken: ['cancel_token'] } },
  ),
  history_labels: table('history_labels', 1, ['name', 'crank', 'seq']),
} as const;

export type TableName = keyof typeof TABLES;
