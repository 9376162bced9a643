import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Kernel, VatBundle } from '../kernel/index.ts';
import { repoPath } from './stats.ts';

/** Set-ups shared by the benchmarks (not a benchmark: bench/run.js skips this file). */

/**
 * Launches bench/vats/filler.js (or `bundle`) as the bootstrap vat `filler` and fills its
 * durable store with `n` entries of `valueBytes`-byte values, 10,000 a crank.
 * Returns the filler's root kref.
 */
export async function launchFilledVat(
  kernel: Kernel,
  bundle: VatBundle,
  n: number,
  valueBytes = 100,
): Promise<string> {
  const { result } = await kernel.launchCluster({
    bootstrap: 'filler',
    vats: { filler: { bundle, parameters: {}, globals: [] } },
  });
  await result;
  const filler = kernel.rootOf('filler');
  for (let from = 0; from < n; from += 10_000) {
    await kernel.queueMessage(filler, 'fill', [
      from,
      Math.min(10_000, n - from),
      valueBytes,
    ]);
  }
  return filler;
}

/**
 * Bundles vat sources with the extension's own build step (in a child process, as the
 * extension's build does), keyed by file name without `.js`.
 */
export function bundleForExtension(paths: readonly string[]): Record<string, unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'cask-bench-bundles-'));
  try {
    execFileSync(
      process.execPath,
      ['--import', 'tsx', repoPath('extension/build/bundle-vats.ts'), dir, ...paths],
      { cwd: repoPath(''), stdio: ['ignore', 'inherit', 'inherit'] },
    );
    const bundles: Record<string, unknown> = {};
    for (const path of paths) {
      const name = basename(path, '.js');
      bundles[name] = JSON.parse(readFileSync(join(dir, `${name}.bundle.json`), 'utf8'));
    }
    return bundles;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
