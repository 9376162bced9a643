import {
  array,
  boolean,
  defaulted,
  exactOptional,
  integer,
  number,
  object,
  size,
  string,
  tuple,
} from '@metamask/superstruct';
import { historyRefusal } from './history-refusal.ts';
import { defineMethod, SHORT_DEADLINE_MS } from './method.ts';

/**
 * What a vat's vatstore held after the commit ending at `crank`, paged as
 * readVatstore is. Reads only; costs a rebuild of that state (docs/history.md).
 */
export const vatstoreAt = defineMethod({
  name: 'vatstoreAt',
  params: object({
    crank: integer(),
    vat: size(string(), 1, 256),
    prefix: exactOptional(string()),
    after: exactOptional(string()),
    limit: defaulted(integer(), 100),
  }),
  result: object({
    crank: number(),
    vatId: string(),
    entries: array(tuple([string(), string()])),
    more: boolean(),
  }),
  deadlineMs: () => SHORT_DEADLINE_MS * 6,
  // Answered from the directory opened read-only when no daemon runs.
  readsOnly: true,
  async handler(hooks, { crank, vat, limit, ...page }) {
    return historyRefusal(() =>
      hooks.readHistory((reader) => reader.vatstoreAt(crank, vat, { ...page, limit })),
    );
  },
});
