import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
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
    const last = run.stdout.trim().split('\n').at(-1) ?? '';
    expect(JSON.parse(last)).toMatchObject({ count: 2, relayed: 'carol saw 42' });
  });
});
