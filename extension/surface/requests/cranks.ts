import {
  enums,
  integer,
  min,
  object,
  optional,
  pattern,
  size,
  string,
} from '@metamask/superstruct';
import type { LoggedCrank } from '../../../kernel/index.ts';
import {
  CRANK_OUTCOMES,
  shownOutcome,
  type CrankPage,
  type LoggedCrankRow,
} from '../../surface-protocol/index.ts';
import { defineMethod, pageLimit, SurfaceError } from '../method.ts';

/** A result value longer than this (as JSON) is sent cut, as text. */
const MAX_RESULT = 2000;

/**
 * The cranks the durable crank log notes, newest first, a page at a time (`before`: a
 * crank number from the last page), so they outlast the service worker and the browser.
 * Filters: the vat (name or id), the kind, a part of the method's name, the outcome as
 * shown (a delivered message's result fulfilled, rejected or pending). Cranks of this
 * boot the log has not written yet (a fault is noted with the next record) come from
 * the worker's memory.
 */
export const cranks = defineMethod({
  name: 'cranks',
  params: object({
    before: optional(min(integer(), 1)),
    limit: pageLimit(100),
    vat: optional(size(string(), 1, 64)),
    kind: optional(pattern(size(string(), 1, 32), /^[A-Za-z]+$/u)),
    method: optional(size(string(), 1, 200)),
    outcome: optional(enums(CRANK_OUTCOMES)),
  }),
  async handler(
    hooks,
    { before, limit, vat, kind, method, outcome },
  ): Promise<CrankPage> {
    const { kernel } = await hooks.host();
    let vatId: string | undefined;
    if (vat !== undefined) {
      vatId = kernel.state.getVatByName(vat)?.vatId ?? vat;
      if (!kernel.state.getVat(vatId) && !/^v\d+$/u.test(vat)) {
        const names = kernel.state.listVats().map((v) => v.name);
        throw new SurfaceError(
          `no vat ${JSON.stringify(vat)} (vats: ${names.join(', ') || 'none'})`,
        );
      }
    }
    const logged = await hooks.history.read((r) => r.cranks());
    const seen = new Set(logged.map((c) => c.crank));
    const unwritten = hooks
      .inspector()
      .recentCranks(500)
      .filter((c) => !seen.has(c.crank))
      .map(({ at, storeBytes: _bytes, ...c }): LoggedCrank => ({ ...c, seq: 0, at }));
    const all =
      unwritten.length > 0
        ? [...logged, ...unwritten].sort((a, b) => b.crank - a.crank)
        : logged;
    const part = method?.toLowerCase();
    const matching = all.filter(
      (c) =>
        (vatId === undefined || c.vatId === vatId) &&
        (kind === undefined || c.kind === kind) &&
        (part === undefined || (c.method ?? '').toLowerCase().includes(part)) &&
        (outcome === undefined || shownOutcome(c) === outcome),
    );
    const older =
      before === undefined ? matching : matching.filter((c) => c.crank < before);
    const page = older.slice(0, limit).map((c): LoggedCrankRow => {
      const name = c.vatId ? kernel.state.getVat(c.vatId)?.name : undefined;
      const row: LoggedCrankRow = {
        ...c,
        ...(name === undefined ? {} : { vatName: name }),
      };
      if ('resultValue' in c) {
        const json = JSON.stringify(c.resultValue) ?? 'undefined';
        if (json.length > MAX_RESULT) {
          row.resultValue = `${json.slice(0, MAX_RESULT)}… (${json.length} characters in all)`;
        }
      }
      return row;
    });
    const oldest = all.at(-1)?.crank;
    return {
      cranks: page,
      more: older.length > limit,
      total: matching.length,
      ...(oldest === undefined ? {} : { oldest }),
    };
  },
});
