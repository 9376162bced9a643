/**
 * Before the end-to-end tests: the extension must be built, and the test vats (e2e/vats)
 * are bundled, so that tests can launch them as inline bundles (they are not shipped in
 * dist/).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DIST, E2E_BUNDLES, ROOT } from './harness.ts';

export default async function globalSetup(): Promise<void> {
  if (!existsSync(join(DIST, 'manifest.json'))) {
    throw new Error(`${DIST} has no built extension: run \`npm run build\` first`);
  }
  mkdirSync(E2E_BUNDLES, { recursive: true });
  const vats = join(ROOT, 'e2e/vats');
  const sources = readdirSync(vats)
    .filter((f) => f.endsWith('.js'))
    .map((f) => join(vats, f));
  await promisify(execFile)(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'extension/build/bundle-vats.ts'),
      E2E_BUNDLES,
      ...sources,
    ],
    { cwd: ROOT },
  );
}
