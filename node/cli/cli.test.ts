import { spawnSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openFileStorage } from '../file-storage/index.ts';
import { describe, expect, it } from 'vitest';
import { main } from './index.ts';

const root = resolve(import.meta.dirname, '../..');
const clusters = resolve(root, 'test/clusters');

async function cask(...argv: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main(argv, {
    stdout: (l) => stdout.push(l),
    stderr: (l) => stderr.push(l),
  });
  return { code, stdout, stderr: stderr.join('\n') };
}

describe('cask run', () => {
  it('prints the bootstrap result of the counter cluster as JSON on the last line', async () => {
    const { code, stdout } = await cask(
      'run',
      resolve(root, 'vats/counter-cluster.json'),
    );
    expect(code).toBe(0);
    expect(stdout.at(-1)).toBe('0');
  });

  it('refuses a missing file', async () => {
    const { code, stderr } = await cask('run', 'no/such/cluster.json');
    expect(code).toBe(1);
    expect(stderr).toMatch(/cluster config no\/such\/cluster\.json does not exist/u);
  });

  it('refuses invalid JSON, saying so', async () => {
    const { code, stderr } = await cask('run', resolve(root, 'vats/counter.js'));
    expect(code).toBe(1);
    expect(stderr).toMatch(/is not valid JSON/u);
  });

  it('names the field of a config that does not match the schema', async () => {
    const { code, stderr } = await cask('run', resolve(clusters, 'bad-schema.json'));
    expect(code).toBe(1);
    expect(stderr).toMatch(/invalid cluster config at vats\.alice\.sourceSpec/u);
  });

  it('reports a vat source that does not build, naming the vat', async () => {
    const { code, stderr } = await cask('run', resolve(clusters, 'bad-source.json'));
    expect(code).toBe(1);
    expect(stderr).toMatch(/vats\.broken\.sourceSpec .*does not build/u);
  });

  it('exits non-zero with the reason when bootstrap rejects', async () => {
    const { code, stderr, stdout } = await cask(
      'run',
      resolve(clusters, 'rejecting.json'),
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/bootstrap of "thrower" rejected: .*bootstrap/u);
    expect(stdout).toEqual([]);
  });

  it('rejects bad usage with exit code 2', async () => {
    expect((await cask('run')).code).toBe(2);
    expect((await cask('frobnicate')).code).toBe(2);
  });
});

describe('the cask command', () => {
  it('runs from the build as a separate process: result on the last stdout line', () => {
    const run = spawnSync(
      process.execPath,
      [resolve(root, 'bin/cask.js'), 'run', resolve(root, 'vats/default-cluster.json')],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    // Vat logs go to stderr: stdout is the result alone.
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      count: 2,
      relayed: 'carol saw 42',
    });
  });
});

describe('cask with a data directory', () => {
  const bin = (...argv: string[]) =>
    spawnSync(process.execPath, [resolve(root, 'bin/cask.js'), ...argv], {
      encoding: 'utf8',
      timeout: 60_000,
    });
  const lastLine = (out: string) => out.trim().split('\n').at(-1);

  it('keeps the count across separate processes: run, then send increment three times', async () => {
    const data = await mkdtemp(join(tmpdir(), 'cask-cli-'));
    const run = bin('run', resolve(root, 'vats/counter-cluster.json'), '--data', data);
    expect(run.status, run.stderr).toBe(0);
    expect(lastLine(run.stdout)).toBe('0');
    const counts = [1, 2, 3].map(() => {
      const send = bin('send', '--data', data, 'counter', 'increment');
      expect(send.status, send.stderr).toBe(0);
      return lastLine(send.stdout);
    });
    expect(counts).toEqual(['1', '2', '3']);
    // Running the cluster again resumes it: no second bootstrap, the count is kept.
    const again = bin('run', resolve(root, 'vats/counter-cluster.json'), '--data', data);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/bootstrap is not called again/u);
    expect(lastLine(bin('send', '--data', data, 'counter', 'getCount').stdout)).toBe('3');
  });

  it('explains an unknown vat, a bad JSON argument, a rejected result and a missing kernel', async () => {
    const data = await mkdtemp(join(tmpdir(), 'cask-cli-'));
    expect((await cask('send', '--data', data, 'counter', 'increment')).stderr).toMatch(
      /holds no kernel; start one with cask run/u,
    );
    expect(
      (await cask('run', resolve(root, 'vats/counter-cluster.json'), '--data', data))
        .code,
    ).toBe(0);
    const unknown = await cask('send', '--data', data, 'nobody', 'increment');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no vat named "nobody" in .*; its vats: counter/u);
    const badJson = await cask('send', '--data', data, 'counter', 'increment', '{oops');
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toMatch(/argument 1 is not valid JSON/u);
    const rejected = await cask('send', '--data', data, 'counter', 'noSuchMethod');
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toMatch(/counter\.noSuchMethod rejected: .*noSuchMethod/u);
    expect(
      (await cask('send', '--data', data, 'counter', 'increment', '5')).stdout.at(-1),
    ).toBe('5');
  });

  it('inspects the vats, their vatstores, the durable crank, the log and the checkpoint', async () => {
    const data = await mkdtemp(join(tmpdir(), 'cask-cli-'));
    await cask('run', resolve(root, 'vats/counter-cluster.json'), '--data', data);
    await cask('send', '--data', data, 'counter', 'increment');
    const { code, stdout } = await cask('inspect', '--data', data);
    expect(code).toBe(0);
    const report = JSON.parse(stdout.at(-1) ?? '') as {
      lastDurableCrank: number;
      log: { records: number; bytes: number };
      checkpoint: { seq: number; bytes: number };
      vats: Array<{
        name: string;
        state: string;
        vatstore: { keys: number; bytes: number };
      }>;
    };
    expect(report.lastDurableCrank).toBeGreaterThan(0);
    expect(report.log.records).toBeGreaterThan(0);
    expect(report.log.bytes).toBeGreaterThan(0);
    // `run` closed cleanly with the bundle in its log, so it left a checkpoint; the send
    // after it is in the log.
    expect(report.checkpoint.seq).toBeGreaterThan(0);
    expect(report.checkpoint.bytes).toBeGreaterThan(0);
    expect(report.vats).toEqual([
      expect.objectContaining({
        name: 'counter',
        state: 'running',
        vatstore: expect.objectContaining({ keys: expect.any(Number) }),
      }),
    ]);
    expect(report.vats[0]?.vatstore.keys).toBeGreaterThan(0);
  });

  it('refuses a data directory that another process holds', async () => {
    const data = await mkdtemp(join(tmpdir(), 'cask-cli-'));
    const holder = await openFileStorage(data);
    try {
      const { code, stderr } = await cask('inspect', '--data', data);
      expect(code).toBe(1);
      expect(stderr).toMatch(/is in use by another cask process/u);
    } finally {
      await holder.close();
    }
  });
});
