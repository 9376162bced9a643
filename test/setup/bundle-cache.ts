/**
 * Vitest's global setup (vitest.config.ts): one directory for this run, in which test
 * files share the vat bundles they make (test/fixtures/bundle-cache.ts), removed at the
 * end of the run. Bundling a small vat takes about two seconds of CPU, and most test
 * files bundle the same few vats: each file, in its own process, did it again.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  interface ProvidedContext {
    /** Where test files share the bundles of vat sources, for this run. */
    bundleCacheDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'cask-test-bundles-'));
  project.provide('bundleCacheDir', dir);
  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}
