import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openFileStorage } from '../file-storage/index.ts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeNodeKernel } from '../host/index.ts';
import { loadClusterFile } from '../cluster-file/index.ts';
import { bundleVatSource } from '../../test/fixtures/bundle-cache.ts';
import { main } from './index.ts';

// A test here runs whole `cask` processes one after another (each starts Node, SES and
// its vats, some bundle a cluster): 9 s alone, and over 30 s when the machine's two
// cores are shared with a browser run. The budget is the work's, not a retry.
vi.setConfig({ testTimeout: 120_000 });

const made: string[] = [];
afterEach(async () => {
  for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A new, empty directory the test's cleanup removes. */
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cask-cli-'));
  made.push(dir);
  return dir;
}

/** Every file under `dir` with a hash of its bytes: equal snapshots, equal contents. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (at: string, rel: string) => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path, `${rel}${entry.name}/`);
      else
        out[`${rel}${entry.name}`] = createHash('sha256')
          .update(await readFile(path))
          .digest('hex');
    }
  };
  await walk(dir, '');
  return out;
}

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
    const data = await tempDir();
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
    const data = await tempDir();
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
    const data = await tempDir();
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
    const data = await tempDir();
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

describe('cask fails in one line', () => {
  it('refuses a vat named __proto__ at validation, naming the field', async () => {
    const { code, stderr } = await cask('run', resolve(clusters, 'reserved-name.json'));
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /invalid cluster config at vats\.__proto__: "__proto__" is reserved/u,
    );
  });

  it('exits 1 naming each vat that failed to start; the others still ran', async () => {
    const { code, stdout, stderr } = await cask(
      'run',
      resolve(clusters, 'failing-start.json'),
    );
    expect(code).toBe(1);
    expect(stdout.at(-1)).toBe('0');
    expect(stderr).toMatch(
      /cask: failed to start: vat "fragile" \(v2\) is suspended: its startVat delivery failed: .*it was told to fail$/u,
    );
  });

  it('exits 1 when the bootstrap vat itself fails to start, instead of waiting for ever', async () => {
    const { code, stdout, stderr } = await cask(
      'run',
      resolve(clusters, 'failing-bootstrap.json'),
    );
    expect(code).toBe(1);
    expect(stdout).toEqual([]);
    expect(stderr).toMatch(/bootstrap of "fragile" did not run: its vat did not start/u);
  });

  it('refuses a directory that is not a kernel, and ends any other failure with one cask: line', async () => {
    const data = await tempDir();
    await writeFile(join(data, 'notes.txt'), 'mine');
    const { code, stderr } = await cask(
      'run',
      resolve(root, 'vats/counter-cluster.json'),
      '--data',
      data,
    );
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^cask: .*is not empty and holds no Cask kernel/u);
    expect(await readdir(data)).toEqual(['notes.txt']);
  });

  it('ends an error from the separate process with one cask: line and exit 1, never an SES stack and 255', async () => {
    const data = await tempDir();
    await mkdir(join(data, 'log'));
    await writeFile(
      join(data, 'log', '0000000000000001.log'),
      new Uint8Array(64).fill(7),
    );
    const run = spawnSync(
      process.execPath,
      [resolve(root, 'bin/cask.js'), 'inspect', '--data', data],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^cask: log segment 1 is damaged: it starts with neither a segment header nor a record/u,
    );
  });
});

describe('read-only commands change nothing', () => {
  /** A kernel with a cross-vat call queued durably and not run, as after a kill. */
  async function withQueuedCall(): Promise<string> {
    const data = await tempDir();
    const host = await makeNodeKernel({ dataDir: data });
    const { result } = await host.kernel.launchCluster(
      await loadClusterFile(resolve(clusters, 'three.json')),
    );
    await result;
    await host.kernel.whenIdle();
    host.kernel.pauseRunQueue();
    const ref = (name: string) => ({ $kref: host.kernel.rootOf(name) });
    await host.kernel.enqueueMessage(host.kernel.rootOf('alice'), 'introduce', [
      ref('bob'),
      ref('carol'),
      'Hey',
    ]);
    await host.close();
    return data;
  }

  it('inspect runs no crank and changes no byte, even with a cross-vat call queued', async () => {
    const data = await withQueuedCall();
    const before = await snapshot(data);
    const { code, stdout } = await cask('inspect', '--data', data);
    expect(code).toBe(0);
    const report = JSON.parse(stdout.at(-1) ?? '') as {
      runQueueLength: number;
      vats: Array<{ state: string; vatstore: { keys: number } }>;
    };
    expect(report.runQueueLength).toBe(1);
    expect(report.vats.map((v) => v.state)).toEqual([
      'running',
      'running',
      'running',
      'running',
    ]);
    expect(report.vats.every((v) => v.vatstore.keys > 0)).toBe(true);
    expect(await snapshot(data)).toEqual(before);
  });

  it('send to an unknown vat, or with an unknown kref, runs nothing and changes nothing', async () => {
    const data = await withQueuedCall();
    const before = await snapshot(data);
    const unknown = await cask('send', '--data', data, 'nobody', 'x');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no vat named "nobody"/u);
    const badKref = await cask(
      'send',
      '--data',
      data,
      'counter',
      'increment',
      '{"$kref":"ko999"}',
    );
    expect(badKref.code).toBe(1);
    expect(badKref.stderr).toMatch(
      /cask: arguments to increment refer to ko999, which the kernel does not know/u,
    );
    expect(await snapshot(data)).toEqual(before);
    // The queued call was kept, and runs with the next real send; every vat still works.
    expect(
      (await cask('send', '--data', data, 'counter', 'increment')).stdout.at(-1),
    ).toBe('1');
    const inspected = JSON.parse(
      (await cask('inspect', '--data', data)).stdout.at(-1) ?? '',
    ) as {
      runQueueLength: number;
      vats: Array<{ state: string }>;
    };
    expect(inspected.runQueueLength).toBe(0);
    expect(inspected.vats.every((v) => v.state === 'running')).toBe(true);
  });
});

describe('cask restart, terminate and --timeout', () => {
  it('restarts and terminates a vat by name; terminate keeps its vatstore unless --delete-state', async () => {
    const data = await tempDir();
    expect(
      (await cask('run', resolve(root, 'vats/counter-cluster.json'), '--data', data))
        .code,
    ).toBe(0);
    expect(
      (await cask('send', '--data', data, 'counter', 'increment')).stdout.at(-1),
    ).toBe('1');
    const restarted = await cask('restart', '--data', data, 'counter');
    expect(restarted.code).toBe(0);
    expect(JSON.parse(restarted.stdout.at(-1) ?? '')).toMatchObject({
      vat: 'counter',
      state: 'running',
    });
    expect(
      (await cask('send', '--data', data, 'counter', 'increment')).stdout.at(-1),
    ).toBe('2');
    const ended = await cask('terminate', '--data', data, 'counter', '--reason', 'done');
    expect(JSON.parse(ended.stdout.at(-1) ?? '')).toMatchObject({
      state: 'terminated',
      reason: 'done',
    });
    expect(
      (JSON.parse(ended.stdout.at(-1) ?? '') as { vatstore: { keys: number } }).vatstore
        .keys,
    ).toBeGreaterThan(0);
    const refused = await cask('send', '--data', data, 'counter', 'increment');
    expect(refused.stderr).toMatch(/cask: vat "counter" was terminated: done/u);
    const deleted = await cask('terminate', '--data', data, 'counter', '--delete-state');
    expect(
      (JSON.parse(deleted.stdout.at(-1) ?? '') as { vatstore: { keys: number } }).vatstore
        .keys,
    ).toBe(0);
  });

  it('--timeout gives up on a delivery that takes longer, and says the message stays queued', async () => {
    const data = await tempDir();
    await writeFile(
      join(data, '..', `${data.split('/').at(-1)}.json`),
      JSON.stringify({
        bootstrap: 'looper',
        vats: {
          looper: {
            sourceSpec: resolve(root, 'test/vats/looper.js'),
            deliveryTimeoutMs: 5000,
          },
        },
      }),
    );
    const config = join(data, '..', `${data.split('/').at(-1)}.json`);
    made.push(config);
    const dir = join(data, 'kernel');
    expect((await cask('run', config, '--data', dir)).code).toBe(1); // looper has no bootstrap method
    const started = Date.now();
    const { code, stderr } = await cask(
      'send',
      '--data',
      dir,
      'looper',
      'spin',
      '--timeout',
      '0.5',
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /cask: no answer to spin within 500 ms; the message stays queued/u,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('the lock under a crash', () => {
  it('with a stale LOCK left by a crash, three cask send at once lose no increment', async () => {
    const data = await tempDir();
    expect(
      (await cask('run', resolve(root, 'vats/counter-cluster.json'), '--data', data))
        .code,
    ).toBe(0);
    await writeFile(
      join(data, 'LOCK'),
      `999999999 ${hostname()} 2026-01-01T00:00:00.000Z\n`,
    );
    const sendOnce = () =>
      new Promise<{ code: number | null; out: string; err: string }>((done) => {
        const child = spawn(process.execPath, [
          resolve(root, 'bin/cask.js'),
          'send',
          '--data',
          data,
          'counter',
          'increment',
        ]);
        let out = '';
        let err = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr.on('data', (c: Buffer) => (err += c.toString()));
        child.on('exit', (code) => done({ code, out, err }));
      });
    const results = await Promise.all([sendOnce(), sendOnce(), sendOnce()]);
    const won = results.filter((r) => r.code === 0);
    for (const lost of results.filter((r) => r.code !== 0)) {
      expect(lost.err).toMatch(/is in use by another cask process/u);
    }
    expect(won.length).toBeGreaterThan(0);
    const counts = won.map((r) => Number(r.out.trim().split('\n').at(-1))).sort();
    // Each success saw its own count: 1, 2, … with none printed twice.
    expect(counts).toEqual(counts.map((_, i) => i + 1));
    expect(
      (await cask('send', '--data', data, 'counter', 'getCount')).stdout.at(-1),
    ).toBe(String(won.length));
  }, 120_000);
});

describe('cask upgrade and cask versions, without a daemon', () => {
  const ledgerV2 = resolve(root, 'vats/ledger-v2.js');
  const broken = resolve(root, 'test/vats/upgrade/ledger-broken.js');

  /** A kernel with the ledger sample (v1) beside a counter that takes the bootstrap. */
  async function ledgerDir(): Promise<string> {
    const dir = await tempDir();
    const config = join(dir, 'cluster.json');
    await writeFile(
      config,
      JSON.stringify({
        bootstrap: 'counter',
        vats: {
          counter: { sourceSpec: resolve(root, 'test/vats/daemon-counter.js') },
          ledger: { sourceSpec: resolve(root, 'vats/ledger.js') },
        },
      }),
    );
    const data = join(dir, 'kernel');
    const run = await cask('run', config, '--data', data);
    expect(run.code, run.stderr).toBe(0);
    return data;
  }
  const json = (run: { stdout: string[] }) =>
    JSON.parse(run.stdout.at(-1) ?? '') as unknown;
  type Listed = {
    versions: Array<{ version: number; bundleId: string; crank: number | null }>;
  };

  it('upgrades the ledger from v1 to v2 keeping its balances, lists both versions, and goes back by --bundle-id', async () => {
    const data = await ledgerDir();
    expect(
      json(await cask('send', '--data', data, 'ledger', 'deposit', '"alice"', '30')),
    ).toBe('30n');
    expect(
      json(await cask('send', '--data', data, 'ledger', 'deposit', '"bob"', '5')),
    ).toBe('5n');
    const up = await cask('upgrade', '--data', data, 'ledger', ledgerV2);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toMatch(
      /^upgraded ledger \(v\d+\) from version 1 to version 2 \(incarnation \d+, bundle [0-9a-f]{12}\)$/mu,
    );
    expect(json(up)).toMatchObject({ vat: 'ledger', from: 1, version: 2 });
    expect(json(await cask('send', '--data', data, 'ledger', 'version'))).toBe(2);
    expect(json(await cask('send', '--data', data, 'ledger', 'balances'))).toEqual({
      alice: '30n',
      bob: '5n',
    });
    // v2's own method, on v1's accounts.
    expect(
      json(
        await cask(
          'send',
          '--data',
          data,
          'ledger',
          'transfer',
          '"alice"',
          '"bob"',
          '10',
        ),
      ),
    ).toEqual({ alice: '20n', bob: '15n' });

    const listed = await cask('versions', '--data', data, 'ledger');
    expect(listed.code, listed.stderr).toBe(0);
    const [v1, v2] = (json(listed) as Listed).versions;
    expect(v1).toMatchObject({ version: 1, crank: null });
    expect(v2).toMatchObject({ version: 2, crank: expect.any(Number) });
    expect(listed.stderr).toContain(`${v1?.bundleId.slice(0, 12)}  created`);
    expect(listed.stderr).toMatch(/^ {2}2 .* \d+ {2}\(current\)$/mu);

    // Back to v1 by the short id versions printed, and by vat id.
    const vatId = (json(up) as { vatId: string }).vatId;
    const back = await cask(
      'upgrade',
      '--data',
      data,
      vatId,
      '--bundle-id',
      v1?.bundleId.slice(0, 12) ?? '',
    );
    expect(back.code, back.stderr).toBe(0);
    expect(json(back)).toMatchObject({ from: 2, version: 3, bundleId: v1?.bundleId });
    expect(json(await cask('send', '--data', data, 'ledger', 'version'))).toBe(1);
    expect(json(await cask('send', '--data', data, 'ledger', 'balances'))).toEqual({
      alice: '20n',
      bob: '15n',
    });
    const after = json(await cask('versions', '--data', data, 'ledger')) as Listed;
    expect(after.versions.map((v) => v.bundleId)).toEqual([
      v1?.bundleId,
      v2?.bundleId,
      v1?.bundleId,
    ]);
  }, 120_000);

  it('a bundle file works as SOURCE, and --parameters reach the new version', async () => {
    const data = await ledgerDir();
    const bundleFile = join(data, '..', 'ledger-v2.json');
    await writeFile(bundleFile, JSON.stringify(await bundleVatSource(ledgerV2)));
    const up = await cask(
      'upgrade',
      '--data',
      data,
      'ledger',
      bundleFile,
      '--parameters',
      '{"note":"v2"}',
    );
    expect(up.code, up.stderr).toBe(0);
    expect(json(await cask('send', '--data', data, 'ledger', 'version'))).toBe(2);
    const listed = json(await cask('versions', '--data', data, 'ledger')) as {
      versions: Array<{ parameters: unknown }>;
    };
    expect(listed.versions.map((v) => v.parameters)).toEqual([{}, { note: 'v2' }]);
  }, 120_000);

  it("a rolled-back upgrade exits 1 with the kernel's reason on one line; the old version answers and no version is added", async () => {
    const data = await ledgerDir();
    await cask('send', '--data', data, 'ledger', 'deposit', '"alice"', '7');
    const failed = await cask('upgrade', '--data', data, 'ledger', broken);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toEqual([]);
    expect(failed.stderr.split('\n').at(-1)).toMatch(
      /^cask: upgrade of vat "ledger" \(v\d+\) rolled back: its new version did not start: .*this ledger version is broken on purpose.*; its previous version runs on$/u,
    );
    expect(json(await cask('send', '--data', data, 'ledger', 'version'))).toBe(1);
    expect(json(await cask('send', '--data', data, 'ledger', 'balances'))).toEqual({
      alice: '7n',
    });
    expect(
      (json(await cask('versions', '--data', data, 'ledger')) as Listed).versions,
    ).toHaveLength(1);
  }, 120_000);

  it('refuses bad input in one line naming what was wrong, and changes nothing', async () => {
    const data = await ledgerDir();
    const notBundle = join(data, '..', 'not-a-bundle.json');
    await writeFile(notBundle, JSON.stringify({ hello: 'world' }));
    const notJson = join(data, '..', 'not-json.json');
    await writeFile(notJson, '{oops');
    const before = await snapshot(data);
    const refusals: Array<[string[], number, RegExp]> = [
      [
        ['nobody', ledgerV2],
        1,
        /^cask: no vat named "nobody" in .*; its vats: counter, ledger$/u,
      ],
      [['ledger', join(data, 'nope.js')], 1, /^cask: .*nope\.js does not exist$/u],
      [
        ['ledger', resolve(root, 'README.md')],
        1,
        /^cask: .*README\.md is neither a vat source \(.*\) nor a bundle file \(\.json\)$/u,
      ],
      [
        ['ledger', notBundle],
        1,
        /^cask: the bundle file .*not-a-bundle\.json: not a bundle: it has no moduleFormat/u,
      ],
      [['ledger', notJson], 1, /^cask: the bundle file .*not-json\.json is not JSON: /u],
      [
        ['ledger', ledgerV2, '--parameters', '{oops'],
        2,
        /^cask: --parameters is not valid JSON .*: \{oops$/u,
      ],
      [
        ['ledger', ledgerV2, '--parameters', '[1]'],
        2,
        /^cask: --parameters must be a JSON object, not \[1\]$/u,
      ],
      [
        ['ledger', ledgerV2, '--bundle-id', 'abc'],
        2,
        /^cask: upgrade takes exactly one of SOURCE, --bundle-id ID or --bundle-name NAME; got SOURCE and --bundle-id$/u,
      ],
      [['ledger'], 2, /^cask: upgrade takes exactly one of .*; got none$/u],
      [
        ['ledger', '--bundle-id', 'abc'],
        1,
        /^cask: the kernel has no bundle abc, and vat "ledger" has run none whose id starts so \(its bundles: [0-9a-f]{12}\)$/u,
      ],
      [
        ['ledger', '--bundle-name', 'nope'],
        1,
        /^cask: no bundle named "nope" in the kernel/u,
      ],
    ];
    for (const [args, exit, said] of refusals) {
      const run = await cask('upgrade', '--data', data, ...args);
      expect(run.code, args.join(' ')).toBe(exit);
      expect(run.stderr.split('\n').at(-1), args.join(' ')).toMatch(said);
      expect(run.stdout).toEqual([]);
    }
    const unknown = await cask('versions', '--data', data, 'nobody');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^cask: no vat named "nobody"/u);
    expect(await snapshot(data)).toEqual(before);
    expect(json(await cask('send', '--data', data, 'ledger', 'version'))).toBe(1);

    expect(
      (await cask('terminate', '--data', data, 'ledger', '--reason', 'closed')).code,
    ).toBe(0);
    const ended = await cask('upgrade', '--data', data, 'ledger', ledgerV2);
    expect(ended.code).toBe(1);
    expect(ended.stderr.split('\n').at(-1)).toBe(
      'cask: vat "ledger" was terminated: closed',
    );
    // Its history can still be read.
    const listed = await cask('versions', '--data', data, 'ledger');
    expect(listed.code).toBe(0);
    expect(listed.stderr).toMatch(/^vat ledger \(v\d+\), terminated/u);
  }, 120_000);
});
