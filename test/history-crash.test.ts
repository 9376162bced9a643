/**
 * Kill -9 in the middle of a restore: a child process restores a kernel to an earlier
 * crank and SIGKILLs itself right before or right after each storage step the restore
 * takes (learnt from a counting run: test/crash/restore.mjs), or half way through each
 * write to the log. Each time, what the directory holds afterwards is exactly the state
 * before the restore or exactly the state after it — every row of every table — never
 * a mix, and the kernel opens and runs from it, its history listing the restore exactly
 * when the state is the new one.
 *
 * Needs the build (npm test builds first), as test/crash.test.ts does.
 */
import { spawn } from 'node:child_process';
import { cp } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { capdataToJson } from '../kernel/index.ts';
import { makeNodeKernel, readNodeStore } from '../node/host/index.ts';
import { dumpStore, type Dump } from './fixtures/history.ts';
import { removeTempDirs, tempDir } from './fixtures/temp-dirs.ts';
import { resolveCluster, sampleVat } from './kernel-harness.ts';

afterAll(removeTempDirs);

const child = resolve(import.meta.dirname, 'crash/restore.mjs');
const DURABILITY = {
  checkpointMinBytes: 2 * 1024,
  checkpointRatio: 0.01,
  closeCheckpointMinBytes: 1024,
  retention: { keepCheckpoints: 1000 },
};

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: string[];
  stderr: string;
}

function restoreIn(dataDir: string, crank: number, killAt?: string): Promise<ChildRun> {
  return new Promise((done) => {
    const proc = spawn(process.execPath, [child, dataDir, String(crank)], {
      env: { ...process.env, ...(killAt ? { CASK_KILL_AT: killAt } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.on('exit', (code, signal) =>
      done({ code, signal, lines: stdout.trim().split('\n'), stderr }),
    );
  });
}

async function dumpOf(dataDir: string): Promise<Dump> {
  const reading = await readNodeStore(dataDir);
  try {
    return dumpStore(reading.store);
  } finally {
    await reading.close();
  }
}

describe('a SIGKILL in the middle of a restore', () => {
  it('leaves the old state or the new one, never a mix, at every step', async () => {
    const root = await tempDir('cask-restore-crash-');
    const original = join(root, 'original');
    const host = await makeNodeKernel({ dataDir: original, durability: DURABILITY });
    const { result } = await host.kernel.launchCluster(
      await resolveCluster({ counter: { source: sampleVat('counter.js') } }, 'counter'),
    );
    await result;
    const counter = host.kernel.rootOf('counter');
    let target = 0;
    for (let i = 1; i <= 8; i += 1) {
      await host.kernel.queueMessage(counter, 'increment', []);
      await host.kernel.whenIdle();
      if (i === 3) target = host.kernel.status().crank;
    }
    await host.close();
    const before = await dumpOf(original);

    // Learn the steps of a restore, and the state it makes.
    const learn = join(root, 'learn');
    await cp(original, learn, { recursive: true });
    const counting = await restoreIn(learn, target);
    expect(counting.code, counting.stderr).toBe(0);
    const after = await dumpOf(learn);
    expect(after).not.toEqual(before);
    const steps = counting.lines
      .filter((l) => l.startsWith('step '))
      .map((l) => {
        const [, kind = '', n = '', tearable] = l.split(' ');
        return { kind, n: Number(n), tearable: tearable === 'tearable' };
      });
    expect(steps.map((s) => s.kind)).toEqual(
      expect.arrayContaining(['checkpoint-rename', 'record-append-write']),
    );

    const points = steps.flatMap((s) => [
      `before:${s.kind}:${s.n}`,
      `after:${s.kind}:${s.n}`,
      ...(s.tearable ? [`torn:${s.kind}:${s.n}`] : []),
    ]);
    const seen = { old: 0, new: 0 };
    for (const [i, point] of points.entries()) {
      const dir = join(root, `kill-${i}`);
      await cp(original, dir, { recursive: true });
      const run = await restoreIn(dir, target, point);
      const where = `killed ${point}: ${run.stderr.slice(-2000)}`;
      expect(run.signal, where).toBe('SIGKILL');
      expect(run.lines.at(-1), where).toMatch(/^killing /u);
      const state = await dumpOf(dir);
      const isOld = JSON.stringify(state) === JSON.stringify(before);
      if (isOld) seen.old += 1;
      else {
        expect(state, where).toEqual(after);
        seen.new += 1;
      }
      // And the kernel runs on from it.
      const again = await makeNodeKernel({ dataDir: dir, durability: DURABILITY });
      await again.kernel.resume();
      const s = await again.kernel.queueMessage(
        again.kernel.rootOf('counter'),
        'getCount',
        [],
      );
      expect(capdataToJson(s.data), where).toBe(isOld ? 8 : 3);
      // History agrees with the state: the restore is listed exactly when it happened.
      const { commits } = await again.history();
      const restores = commits.filter((c) => c.restore?.crank === target);
      expect(restores.length, where).toBe(isOld ? 0 : 1);
      await again.close();
    }
    expect(seen.old).toBeGreaterThan(0);
    expect(seen.new).toBeGreaterThan(0);
    console.info(
      `restore kill points: ${points.length} (${seen.old} left the old state, ${seen.new} the new)`,
    );
  }, 300_000);
});
