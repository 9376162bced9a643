import { object, size, string } from '@metamask/superstruct';
import { defineMethod } from '../method.ts';

/** Rows returned at most; the answer says when there were more. */
const MAX_ROWS = 1000;

/**
 * One read-only SQL statement against the kernel's database, between cranks. Writes are
 * refused (see KernelStore.inspect). Blobs come back as `{ $bytes: length }`.
 */
export const query = defineMethod({
  name: 'query',
  params: object({ sql: size(string(), 1, 100_000) }),
  async handler(hooks, { sql }) {
    const { kernel } = await hooks.host();
    const result = await kernel.inspectStore(sql, MAX_ROWS);
    return {
      columns: result.columns,
      rows: result.rows.map((row) =>
        row.map((cell) => (cell instanceof Uint8Array ? { $bytes: cell.length } : cell)),
      ),
      truncated: result.truncated,
    };
  },
});
