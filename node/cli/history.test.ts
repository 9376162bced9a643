/**
 * `cask history / label / restore / fork`, with no daemon (the command opens DIR itself,
 * read-only where it only reads) and through a daemon (its kernel restores in place).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { dirDigest } from '../../test/fixtures/history.ts';
import { removeTempDirs, tempDir } from '../../test/fixtures/temp-dirs.ts';
import { startDaemon } from '../daemon/index.ts';
import type { ListedCommit } from '../host/index.ts';
import { main } from './index.ts';

// A test here runs whole `cask` processes one after another (each starts Node, SES and
// its vats, some bundle a cluster): 9 s alone, and over 30 s when the machine's two
// cores are shared with a browser run. The budget is the work's, not a retry.
vi.setConfig({ testTimeout: 120_000 });

afterAll(removeTempDirs);

const root = resolve(import.meta.dirname, '../..');

async function cask(...argv: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main(argv, {
    stdout: (l) => stdout.push(l),
    stderr: (l) => stderr.push(l),
  });
  const last = stdout.at(-1);
  return {
    code,
    stderr: stderr.join('\n'),
    json: last === undefined ? undefined : (JSON.parse(last) as unknown),
  };
}

/** A counter kernel in a new DIR, incremented `n` times; the crank after each. */
async function counterDir(n: number) {
  const dir = join(await tempDir('cask-cli-history-'), 'data');
  const run = await cask(
    'run',
    resolve(root, 'vats/counter-cluster.json'),
    '--data',
    dir,
  );
  expect(run.code, run.stderr).toBe(0);
  const cranks: number[] = [];
  for (let i = 0; i < n; i += 1) {
    const sent = await cask('send', '--data', dir, 'counter', 'increment');
    expect(sent.code, sent.stderr).toBe(0);
    const { json } = await cask('history', '--data', dir);
    const commits = (json as { commits: ListedCommit[] }).commits;
    cranks.push((commits.filter((c) => !c.between).at(-1) as ListedCommit).lastCrank);
  }
  return { dir, cranks };
}

const count = async (dir: string) =>
  (await cask('send', '--data', dir, 'counter', 'getCount')).json;

describe('cask history, label, restore and fork without a daemon', () => {
  it('lists, labels, restores, undoes and forks', async () => {
    const { dir, cranks } = await counterDir(4);
    const listed = await cask('history', '--data', dir);
    expect(listed.code).toBe(0);
    expect(listed.stderr).toMatch(/commit\(s\) retained; history takes \d+ bytes/u);
    const two = cranks[1] as number;
    expect((await cask('label', '--data', dir, String(two), 'two')).code).toBe(0);
    const { json } = await cask('history', '--data', dir);
    const commits = (json as { commits: ListedCommit[] }).commits;
    expect(commits.find((c) => c.lastCrank === two)?.labels).toEqual(['two']);
    const removed = await cask('unlabel', '--data', dir, 'two');
    expect(removed.json).toMatchObject({ crank: two, name: 'two' });
    const after = (await cask('history', '--data', dir)).json as {
      commits: ListedCommit[];
    };
    expect(after.commits.find((c) => c.lastCrank === two)?.labels).toEqual([]);
    expect((await cask('label', '--data', dir, String(two), 'two')).code).toBe(0);

    const restored = await cask('restore', '--data', dir, String(two));
    expect(restored.code, restored.stderr).toBe(0);
    const { undoCrank } = restored.json as { undoCrank: number };
    expect(await count(dir)).toBe(2);
    // Undo: the commit before the restore's.
    expect((await cask('restore', '--data', dir, String(undoCrank))).code).toBe(0);
    expect(await count(dir)).toBe(4);

    const digest = await dirDigest(dir);
    const to = join(await tempDir('cask-cli-fork-'), 'copy');
    const forked = await cask('fork', '--data', dir, String(two), '--to', to);
    expect(forked.code, forked.stderr).toBe(0);
    expect(await dirDigest(dir)).toEqual(digest);
    expect(await count(to)).toBe(2);
  }, 120_000);

  it('refuses bad input with one line, changing nothing', async () => {
    const { dir, cranks } = await counterDir(2);
    await cask('label', '--data', dir, String(cranks[0]), 'one');
    const digest = await dirDigest(dir);
    const refused = async (argv: string[], message: RegExp, code = 1) => {
      const r = await cask(...argv);
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr.split('\n').at(-1)).toMatch(message);
    };
    await refused(
      ['restore', '--data', dir, '99999'],
      /^cask: crank 99999 is not committed yet/u,
    );
    await refused(
      ['restore', '--data', dir, 'ten'],
      /^cask: CRANK is a crank number/u,
      2,
    );
    await refused(
      ['label', '--data', dir, String(cranks[1]), 'one'],
      /^cask: the label one already marks crank/u,
    );
    await refused(
      ['unlabel', '--data', dir, 'none'],
      /^cask: no label is named none \(labels: one\)$/u,
    );
    await refused(
      ['unlabel', '--data', dir, 'bad name'],
      /^cask: "bad name" cannot be a label/u,
    );
    const full = await tempDir('cask-cli-full-');
    await writeFile(join(full, 'mine'), 'x');
    await refused(
      ['fork', '--data', dir, String(cranks[0]), '--to', full],
      /^cask: cannot fork to .*: it is not empty/u,
    );
    await refused(
      ['fork', '--data', dir, String(cranks[0])],
      /^cask: fork needs --to/u,
      2,
    );
    expect(await dirDigest(dir)).toEqual(digest);
    await mkdir(join(full, 'more'));
  }, 120_000);
});

describe('cask restore through a daemon', () => {
  it("restores the daemon's kernel in place; its vats answer at once", async () => {
    const { dir, cranks } = await counterDir(3);
    const daemon = await startDaemon({ dataDir: dir, log: () => undefined });
    try {
      expect(await count(dir)).toBe(3);
      const listed = await cask('history', '--data', dir);
      expect((listed.json as { commits: unknown[] }).commits.length).toBeGreaterThan(3);
      const restored = await cask('restore', '--data', dir, String(cranks[0]));
      expect(restored.code, restored.stderr).toBe(0);
      expect(await count(dir)).toBe(1);
      expect((await cask('send', '--data', dir, 'counter', 'increment')).json).toBe(2);
      const to = join(await tempDir('cask-cli-fork-'), 'copy');
      expect(
        (await cask('fork', '--data', dir, String(cranks[2]), '--to', to)).code,
      ).toBe(0);
      expect(daemon.host.kernel.state.getVatByName('counter')?.incarnation).toBe(2);
      expect((await cask('label', '--data', dir, String(cranks[1]), 'mid')).code).toBe(0);
      const removed = await cask('unlabel', '--data', dir, 'mid');
      expect(removed.json).toMatchObject({ crank: cranks[1], name: 'mid' });
      expect(daemon.host.kernel.state.historyLabels()).toEqual([]);
    } finally {
      await daemon.stop();
    }
    expect(await count(dir)).toBe(2);
  }, 120_000);
});
