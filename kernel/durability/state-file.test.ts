/**
 * The state file: a checkpoint of the whole database, exported between cranks and
 * checked through and through before anything is touched. Installing one into a host's
 * storage is tested with real files in test/crank-inspection.test.ts (kernel/ does not
 * import a host).
 */
import initSqlJs, { type SqlJsStatic } from 'sql.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { KernelStore, SCHEMA_VERSION, type Row } from '../store/index.ts';
import { crc32 } from './crc32.ts';
import { decodeCheckpoint, encodeCheckpoint } from './format.ts';
import { StateFileError, checkStateFile, exportStateFile } from './state-file.ts';

let SQL: SqlJsStatic;
beforeAll(async () => {
  SQL = await initSqlJs();
});

const vatRow = (vatId: string, name: string): Row => [
  vatId,
  name,
  'b1',
  '{}',
  '[]',
  1,
  'running',
  `ko-${vatId}`,
  1,
  null,
  null,
  null,
];

/** A store as a kernel leaves it after `cranks` cranks, with the given vats. */
function storeWith(vats: string[], cranks: number): KernelStore {
  const store = KernelStore.open(SQL);
  store.beginCrank();
  vats.forEach((name, i) => store.put('vats', vatRow(`v${i + 1}`, name)));
  store.put('vatstore', ['v1', 'origin', vats.join(',')]);
  store.put('counters', ['crank', cranks + 1]);
  store.commitCrank();
  store.takeChanges();
  return store;
}

/** Bytes that are not a state file, the same on every run. */
function noise(length: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i += 1) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

/** A checkpoint-framed file around `image`, with a correct checksum. */
const framed = (image: Uint8Array, seq = 1) => encodeCheckpoint(seq, image, crc32(image));

function refusal(file: Uint8Array): StateFileError {
  try {
    checkStateFile(SQL, file);
  } catch (error) {
    expect(error).toBeInstanceOf(StateFileError);
    return error as StateFileError;
  }
  throw new Error('checkStateFile accepted the file');
}

describe('exportStateFile and checkStateFile', () => {
  it('exports a file that checks out, with the vat count and the last crank', async () => {
    const store = storeWith(['alice', 'bob', 'carol'], 41);
    const file = await exportStateFile(store, 17);
    const checked = checkStateFile(SQL, file);
    expect(checked.vats).toBe(3);
    expect(checked.crank).toBe(41);
    const copy = KernelStore.open(SQL, checked.image);
    expect(copy.all('SELECT name FROM vats ORDER BY name')).toEqual([
      ['alice'],
      ['bob'],
      ['carol'],
    ]);
    expect(copy.get('vatstore', ['v1', 'origin'])).toEqual([
      'v1',
      'origin',
      'alice,bob,carol',
    ]);
  });

  it('labels the file with the log seq it was given', async () => {
    const file = await exportStateFile(storeWith(['alice'], 1), 17);
    const decoded = decodeCheckpoint(file);
    expect(decoded.ok && decoded.seq).toBe(17);
  });

  it('refuses to export while a crank is open', async () => {
    const store = storeWith(['alice'], 1);
    store.beginCrank();
    store.put('counters', ['crank', 3]);
    await expect(exportStateFile(store, 1)).rejects.toThrow(/a crank is open/u);
    store.abortCrank();
  });

  it('says a new store has no vats and no cranks', async () => {
    const checked = checkStateFile(SQL, await exportStateFile(KernelStore.open(SQL), 0));
    expect(checked).toMatchObject({ vats: 0, crank: 0 });
  });

  it('refuses a truncated file', async () => {
    const file = await exportStateFile(storeWith(['alice'], 1), 1);
    expect(refusal(file.subarray(0, file.length - 1)).message).toMatch(
      /^not a usable Cask state file: truncated/u,
    );
  });

  it('refuses a file cut inside its header', async () => {
    const file = await exportStateFile(storeWith(['alice'], 1), 1);
    expect(refusal(file.subarray(0, 10)).message).toMatch(/truncated \(10 bytes/u);
  });

  it('refuses an empty file', () => {
    expect(refusal(new Uint8Array(0)).message).toMatch(/truncated/u);
  });

  it('refuses a file with one flipped byte (checksum mismatch)', async () => {
    const file = new Uint8Array(await exportStateFile(storeWith(['alice'], 1), 1));
    const at = file.length >> 1;
    file[at] = (file[at] as number) ^ 0x01;
    expect(refusal(file).message).toMatch(/checksum mismatch/u);
  });

  it('refuses random bytes (bad header)', () => {
    expect(refusal(noise(4096)).message).toMatch(/bad header/u);
  });

  it('refuses a valid checkpoint whose image is not a SQLite database', () => {
    const error = refusal(framed(noise(8192, 7)));
    expect(error.message).toMatch(/its database does not open/u);
  });

  it('refuses a SQLite database that is not a Cask store, empty or not', () => {
    for (const sql of [
      '',
      'CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES (1)',
    ]) {
      const db = new SQL.Database();
      if (sql) db.exec(sql);
      const image = db.export();
      db.close();
      expect(refusal(framed(image)).message).toMatch(/is not a Cask store/u);
    }
  });

  it('refuses a database from a newer schema version, naming both versions', () => {
    const db = new SQL.Database();
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    const image = db.export();
    db.close();
    expect(refusal(framed(image)).message).toMatch(
      new RegExp(
        `does not open: .*schema version ${SCHEMA_VERSION + 1}, newer than this Cask's ${SCHEMA_VERSION}`,
        'u',
      ),
    );
  });

  it('refuses a database whose pages are damaged under a matching checksum', () => {
    const store = storeWith(['alice'], 1);
    // Enough rows that the vatstore spans many pages.
    store.beginCrank();
    for (let i = 0; i < 2000; i += 1) {
      store.put('vatstore', ['v1', `key-${String(i).padStart(5, '0')}`, 'x'.repeat(40)]);
    }
    store.commitCrank();
    store.takeChanges();
    const image = new Uint8Array(store.export());
    const pageSize = new DataView(image.buffer).getUint16(16);
    // Scramble a page in the middle of the file (not the header page).
    const page = Math.floor(image.length / pageSize / 2);
    image.set(noise(pageSize, 3), page * pageSize);
    expect(refusal(framed(image)).message).toMatch(/SQLite's integrity check says/u);
  });

  it('returns the image unchanged and does not migrate or alter the file', async () => {
    const file = await exportStateFile(storeWith(['alice'], 5), 9);
    const before = Buffer.from(file);
    const checked = checkStateFile(SQL, file);
    expect(before.equals(file)).toBe(true);
    const decoded = decodeCheckpoint(file);
    expect(decoded.ok && Buffer.from(decoded.image).equals(checked.image)).toBe(true);
  });
});
