/**
 * A `cask` fixture: the extension in Chromium on a fresh profile, its default cluster
 * bootstrapped; disposed after.
 */
import { test as base } from '@playwright/test';
import { Cask } from './harness.ts';

export const test = base.extend<{ cask: Cask }>({
  // Playwright reads the fixtures a test asks for from this pattern, even an empty one.
  // eslint-disable-next-line no-empty-pattern
  cask: async ({}, use) => {
    const cask = await Cask.launch();
    try {
      // The default cluster's bootstrap has run: tests start from a settled kernel.
      await cask.ask('whenIdle');
      await use(cask);
    } finally {
      await cask.dispose();
    }
  },
});

export { expect } from '@playwright/test';

// The surface's own result types: the tests read what the panel reads.
export type {
  CrankInfo,
  StatusReport as Status,
  VatReport,
} from '../extension/surface-protocol/index.ts';

export interface Settled {
  target: string;
  result: { status: 'fulfilled' | 'rejected'; value: unknown };
}

/** `increment` on the default cluster's counter; its new count. */
export async function increment(cask: Cask): Promise<number> {
  const { result } = await cask.ask<Settled>('send', {
    target: { vat: 'counter' },
    method: 'increment',
  });
  if (result.status !== 'fulfilled')
    throw new Error(`increment: ${JSON.stringify(result)}`);
  return result.value as number;
}
