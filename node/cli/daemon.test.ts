/**
 * `cask start / stop / status` and the commands that talk to a running daemon, each
 * CLI call a process of its own (bin/cask.js, from the build), as a user runs them.
 * Every test stops its daemons and removes its directories, passing or failing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bundleVatSource } from '../../test/fixtures/bundle-cache.ts';

// A test here runs whole `cask` processes one after another (each starts Node, SES and
// its vats, some bundle a cluster): 9 s alone, and over 30 s when the machine's two
// cores are shared with a browser run. The budget is the work's, not a retry.
vi.setConfig({ testTimeout: 120_000 });

const root = resolve(import.meta.dirname, '../..');
const caskJs = resolve(root, 'bin/cask.js');
const DEADLINE_MS = 60_000;

const made: string[] = [];
/** Daemons a test started: stopped (killed, if need be) after it. */
const daemons: Array<{ pid: number; child?: ChildProcess; exited?: Promise<unknown> }> =
  [];

afterEach(async () => {
  for (const d of daemons.splice(0)) {
    if (!isAlive(d.pid)) continue;
    process.kill(d.pid, 'SIGKILL');
    await d.exited;
  }
  for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cask-daemon-'));
  made.push(dir);
  return dir;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The last line of stdout, parsed. */
  json: unknown;
}

/** Runs `cask ARGV…` as a process; resolves when it exits (within the deadline). */
function cask(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [caskJs, ...argv], {
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`cask ${argv.join(' ')} did not exit within ${DEADLINE_MS} ms`));
    }, DEADLINE_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').at(-1) ?? '';
      let json: unknown;
      try {
        json = JSON.parse(last);
      } catch {
        json = undefined;
      }
      done({ code, stdout, stderr, json });
    });
  });
}

/**
 * A vat of a cluster file as a `bundleSpec`: the bundle of `source` (under the repository
 * root) written into `dir`. What these tests try is the daemon, not `cask run` bundling a
 * source (cli.test.ts runs that), which costs each `cask run` process some two seconds.
 */
async function bundleSpec(dir: string, source: string): Promise<{ bundleSpec: string }> {
  const file = join(dir, `${source.replaceAll('/', '-')}.bundle.json`);
  await writeFile(file, JSON.stringify(await bundleVatSource(resolve(root, source))));
  return { bundleSpec: file };
}

/** `cask run` of a one-vat cluster of test/vats/daemon-counter.js into a new DIR. */
async function kernelDir(name = 'kernel'): Promise<string> {
  const dir = await tempDir();
  const config = join(dir, 'cluster.json');
  await writeFile(
    config,
    JSON.stringify({
      bootstrap: 'counter',
      vats: { counter: await bundleSpec(dir, 'test/vats/daemon-counter.js') },
    }),
  );
  const data = join(dir, name);
  const run = await cask(['run', config, '--data', data]);
  expect(run.code, run.stderr).toBe(0);
  expect(run.json).toBe('ready');
  return data;
}

/** `cask start --data DIR` (detached); the daemon is cleaned up after the test. */
async function startDetached(data: string, env: NodeJS.ProcessEnv = {}) {
  const started = await cask(['start', '--data', data], env);
  expect(started.code, started.stderr).toBe(0);
  const info = started.json as { pid: number; socket: string; dataDir: string };
  daemons.push({ pid: info.pid });
  return info;
}

/** `cask start --foreground` as a child of this test: resolves once it is ready. */
function startForeground(data: string, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(
    process.execPath,
    [caskJs, 'start', '--foreground', '--data', data],
    {
      env: { ...process.env, ...env },
    },
  );
  const exited = new Promise<number | null>((done) => child.on('exit', done));
  daemons.push({ pid: child.pid as number, child, exited });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise<{
    child: ChildProcess;
    exited: Promise<number | null>;
    pid: number;
    socket: string;
    log: () => string;
  }>((done, fail) => {
    let out = '';
    const timer = setTimeout(
      () =>
        fail(new Error(`the daemon did not start within ${DEADLINE_MS} ms: ${stderr}`)),
      DEADLINE_MS,
    );
    const onData = (c: Buffer) => {
      out += c.toString();
      const newline = out.indexOf('\n');
      if (newline === -1) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      const ready = JSON.parse(out.slice(0, newline)) as { pid: number; socket: string };
      done({ child, exited, ...ready, log: () => stderr });
    };
    child.stdout.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`the daemon exited (${code}) before it was ready: ${stderr}`));
    });
  });
}

const send = (data: string, ...rest: string[]) => cask(['send', '--data', data, ...rest]);

/** Every file under `dir` (sockets aside) with a hash of its bytes. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (at: string, rel: string) => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path, `${rel}${entry.name}/`);
      else if (entry.isFile()) {
        out[`${rel}${entry.name}`] = createHash('sha256')
          .update(await readFile(path))
          .digest('hex');
      }
    }
  };
  await walk(dir, '');
  return out;
}

describe('cask start, status and stop', () => {
  it('keeps a vat up between sends: its heap counter counts on, and stop ends it cleanly', async () => {
    const data = await kernelDir();
    const daemon = await startDetached(data);
    expect(daemon.socket).toBe(join(daemon.dataDir, 'daemon.sock'));
    const status = await cask(['status', '--data', data]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.json).toMatchObject({
      running: true,
      pid: daemon.pid,
      vats: [{ name: 'counter', state: 'running' }],
    });
    expect((status.json as { uptimeMs: number }).uptimeMs).toBeGreaterThanOrEqual(0);
    expect((await send(data, 'counter', 'increment')).json).toBe(1);
    expect((await send(data, 'counter', 'increment')).json).toBe(2);
    const crank = (await cask(['status', '--data', data])).json as {
      crank: number;
      durableCrank: number;
    };
    expect(crank.durableCrank).toBe(crank.crank);

    const stopped = await cask(['stop', '--data', data]);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.json).toMatchObject({
      stopped: true,
      pid: daemon.pid,
      runQueueLength: 0,
    });
    // Everything it acknowledged is durable: the stop's crank is the durable one.
    const report = stopped.json as { crank: number; durableCrank: number };
    expect(report.durableCrank).toBe(report.crank);
    const after = await cask(['status', '--data', data]);
    expect(after.code).toBe(3);
    expect(after.json).toEqual({ running: false });
    expect(after.stderr).toMatch(/no daemon runs on/u);
    // Without a daemon each send restarts the vat: its heap starts again.
    expect((await send(data, 'counter', 'increment')).json).toBe(1);
    expect((await send(data, 'counter', 'increment')).json).toBe(1);
    expect((await cask(['stop', '--data', data])).code).toBe(3);
  }, 120_000);

  it('refuses a second daemon on the same directory, naming the first; two directories run at once', async () => {
    const one = await kernelDir();
    const two = await kernelDir();
    const first = await startDetached(one);
    const again = await cask(['start', '--data', one]);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe(
      `cask: a daemon (pid ${first.pid}) already runs on ${one}`,
    );
    const foreground = await cask(['start', '--foreground', '--data', one]);
    expect(foreground.stderr.trim().split('\n').at(-1)).toBe(
      `cask: a daemon (pid ${first.pid}) already runs on ${one}`,
    );
    const second = await startDetached(two);
    expect(second.pid).not.toBe(first.pid);
    expect((await send(one, 'counter', 'increment')).json).toBe(1);
    expect((await send(two, 'counter', 'increment')).json).toBe(1);
    expect((await send(one, 'counter', 'increment')).json).toBe(2);
    expect(((await cask(['status', '--data', two])).json as { pid: number }).pid).toBe(
      second.pid,
    );
    expect((await cask(['stop', '--data', one])).code).toBe(0);
    expect((await send(two, 'counter', 'increment')).json).toBe(2);
    expect((await cask(['stop', '--data', two])).code).toBe(0);
  }, 120_000);

  it('listens on a socket only its owner may use: 0600 in DIR, or in a 0700 runtime dir when DIR is too long', async () => {
    const data = await kernelDir();
    const daemon = await startForeground(data);
    const socket = await stat(daemon.socket);
    expect(socket.isSocket()).toBe(true);
    expect(socket.mode & 0o777).toBe(0o600);
    expect(socket.uid).toBe(process.getuid?.());
    expect((await cask(['stop', '--data', data])).code).toBe(0);
    expect(await daemon.exited).toBe(0);

    const base = await tempDir();
    const long = join(base, 'd'.repeat(60), 'e'.repeat(60), 'kernel');
    await mkdir(join(long, '..'), { recursive: true });
    await rm(long, { recursive: true, force: true });
    const config = join(base, 'cluster.json');
    await writeFile(
      config,
      JSON.stringify({
        bootstrap: 'counter',
        vats: { counter: await bundleSpec(base, 'test/vats/daemon-counter.js') },
      }),
    );
    const runtime = join(base, 'run');
    const env = { XDG_RUNTIME_DIR: runtime };
    expect((await cask(['run', config, '--data', long], env)).code).toBe(0);
    const far = await startForeground(long, env);
    expect(far.socket.startsWith(join(runtime, 'cask') + '/')).toBe(true);
    expect((await stat(join(runtime, 'cask'))).mode & 0o777).toBe(0o700);
    expect((await stat(far.socket)).mode & 0o777).toBe(0o600);
    expect((await cask(['send', '--data', long, 'counter', 'increment'], env)).json).toBe(
      1,
    );
    expect((await cask(['send', '--data', long, 'counter', 'increment'], env)).json).toBe(
      2,
    );
    expect((await cask(['stop', '--data', long], env)).code).toBe(0);
    expect(await far.exited).toBe(0);
  }, 120_000);
});

describe('a daemon that dies, a client that dies', () => {
  it('a daemon killed with SIGKILL resumes from disk as any crash; its stale socket confuses nobody', async () => {
    const data = await kernelDir();
    const daemon = await startForeground(data);
    expect((await send(data, 'counter', 'tally')).json).toBe(1);
    expect((await send(data, 'counter', 'tally')).json).toBe(2);
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    // The socket file is still there, with nobody listening.
    expect((await stat(join(data, 'daemon.sock'))).isSocket()).toBe(true);
    expect((await cask(['status', '--data', data])).code).toBe(3);
    // Without a daemon: the command opens DIR itself, from its last durable crank.
    const third = await send(data, 'counter', 'tally');
    expect(third.code, third.stderr).toBe(0);
    expect(third.json).toBe(3);
    // And a new daemon takes the socket's place.
    const next = await startForeground(data);
    expect((await send(data, 'counter', 'tally')).json).toBe(4);
    expect((await cask(['stop', '--data', data])).code).toBe(0);
    expect(await next.exited).toBe(0);
  }, 120_000);

  it('a client killed mid-request harms nothing: its crank commits and the daemon answers the next', async () => {
    const data = await kernelDir();
    const daemon = await startForeground(data);
    // A send whose result the vat decides later; its client is killed while it waits.
    const doomed = spawn(process.execPath, [
      caskJs,
      'send',
      '--data',
      data,
      'counter',
      'hold',
      '--timeout',
      '60',
    ]);
    const doomedExit = new Promise((done) => doomed.on('exit', done));
    // Answers once the vat has taken the held send: state, not time.
    const taken = await send(data, 'counter', 'whenHeld', '1', '--timeout', '30');
    expect(taken.code, taken.stderr).toBe(0);
    expect(taken.json).toBe(1);
    doomed.kill('SIGKILL');
    await doomedExit;
    expect((await send(data, 'counter', 'heldCount')).json).toBe(1);
    expect((await send(data, 'counter', 'settleHeld', '"late"')).json).toBe(1);
    expect((await send(data, 'counter', 'increment')).json).toBe(1);

    // A client that writes half a message and goes, and one that speaks another version.
    await new Promise<void>((done, fail) => {
      const socket = createConnection(daemon.socket, () => {
        socket.write('{"protocol":"cask-daemon","version":1,"kind":"requ');
        socket.destroy();
        done();
      });
      socket.on('error', fail);
    });
    const answer = await new Promise<string>((done, fail) => {
      const socket = createConnection(daemon.socket, () => {
        socket.write(
          `${JSON.stringify({ protocol: 'cask-daemon', version: 2, kind: 'request', id: '7', method: 'status', params: {} })}\n${JSON.stringify({ protocol: 'cask-daemon', version: 1, kind: 'request', id: '8', method: 'send', params: { target: { vat: 'counter' } } })}\n`,
        );
      });
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        text += chunk;
        if (text.split('\n').length > 2) {
          socket.destroy();
          done(text);
        }
      });
      socket.on('error', fail);
    });
    const [versioned, invalid] = answer
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as object);
    expect(versioned).toMatchObject({
      id: '7',
      ok: false,
      error: { message: expect.stringMatching(/speaks cask-daemon version 1, not 2/u) },
    });
    expect(invalid).toMatchObject({
      id: '8',
      ok: false,
      error: {
        message: expect.stringMatching(/invalid send request at params\.method/u),
      },
    });
    expect((await send(data, 'counter', 'increment')).json).toBe(2);
    expect((await cask(['stop', '--data', data])).code).toBe(0);
    expect(await daemon.exited).toBe(0);
  }, 120_000);

  it('a send waiting when the daemon stops is told so; the stop runs nothing more', async () => {
    const data = await kernelDir();
    const daemon = await startForeground(data);
    const waiting = cask(['send', '--data', data, 'counter', 'hold', '--timeout', '60']);
    expect((await send(data, 'counter', 'whenHeld', '1', '--timeout', '30')).json).toBe(
      1,
    );
    const stopped = await cask(['stop', '--data', data]);
    expect(stopped.code, stopped.stderr).toBe(0);
    const told = await waiting;
    expect(told.code).toBe(1);
    expect(told.stderr).toMatch(/cask: the daemon stopped before send was answered/u);
    expect(await daemon.exited).toBe(0);
  }, 120_000);
});

describe('commands against a daemon', () => {
  it('inspect against a daemon reads its live kernel and changes nothing', async () => {
    const data = await kernelDir();
    await startForeground(data);
    expect((await send(data, 'counter', 'tally')).json).toBe(1);
    const before = await snapshot(data);
    const statusBefore = (await cask(['status', '--data', data])).json as {
      crank: number;
    };
    const inspected = await cask(['inspect', '--data', data]);
    expect(inspected.code, inspected.stderr).toBe(0);
    expect(inspected.stderr).toMatch(/its daemon, pid \d+, answered/u);
    const report = inspected.json as {
      lastDurableCrank: number;
      runQueueLength: number;
      vats: Array<{ name: string; state: string; vatstore: { keys: number } }>;
      daemon: { pid: number };
    };
    expect(report.lastDurableCrank).toBe(statusBefore.crank);
    expect(report.runQueueLength).toBe(0);
    expect(report.vats).toEqual([
      expect.objectContaining({ name: 'counter', state: 'running' }),
    ]);
    expect(report.vats[0]?.vatstore.keys).toBeGreaterThan(0);
    expect(await snapshot(data)).toEqual(before);
    const statusAfter = (await cask(['status', '--data', data])).json as {
      crank: number;
    };
    expect(statusAfter.crank).toBe(statusBefore.crank);
    // The heap is still the one the daemon started with.
    expect((await send(data, 'counter', 'increment')).json).toBe(1);
    expect((await cask(['stop', '--data', data])).code).toBe(0);
  }, 120_000);

  it('restart and terminate go through the daemon: a restart loses the heap, keeps baggage', async () => {
    const data = await kernelDir();
    await startForeground(data);
    expect((await send(data, 'counter', 'increment')).json).toBe(1);
    expect((await send(data, 'counter', 'tally')).json).toBe(1);
    const restarted = await cask(['restart', '--data', data, 'counter']);
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(restarted.json).toMatchObject({
      vat: 'counter',
      state: 'running',
      incarnation: 2,
    });
    expect((await send(data, 'counter', 'increment')).json).toBe(1);
    expect((await send(data, 'counter', 'tally')).json).toBe(2);
    const ended = await cask([
      'terminate',
      '--data',
      data,
      'counter',
      '--reason',
      'done',
    ]);
    expect(ended.json).toMatchObject({ state: 'terminated', reason: 'done' });
    const refused = await send(data, 'counter', 'increment');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/cask: vat "counter" was terminated: done/u);
    expect((await cask(['stop', '--data', data])).code).toBe(0);
  }, 120_000);

  it('a send with a result nobody has decided yet waits for it in the daemon, with --timeout', async () => {
    const data = await kernelDir();
    await startForeground(data);
    const noWait = await send(data, 'counter', 'hold');
    expect(noWait.code).toBe(1);
    expect(noWait.stderr).toMatch(
      /has no answer: .*with --timeout SECONDS, the daemon waits/u,
    );
    const waiting = send(data, 'counter', 'hold', '--timeout', '60');
    expect((await send(data, 'counter', 'whenHeld', '2', '--timeout', '30')).json).toBe(
      2,
    );
    expect((await send(data, 'counter', 'settleHeld', '"now"')).json).toBe(2);
    const answered = await waiting;
    expect(answered.code, answered.stderr).toBe(0);
    expect(answered.json).toBe('now');
    expect((await cask(['stop', '--data', data])).code).toBe(0);
  }, 120_000);
});

describe('references printed by cask send stay callable', () => {
  const kref = (run: Run) => (run.json as { $kref: string }).$kref;

  it('through a daemon: call a heap object by kref, pass it as an argument, release it', async () => {
    const data = await kernelDir();
    await startForeground(data);
    const made = await send(data, 'counter', 'makeCell', '"a"');
    expect(made.code, made.stderr).toBe(0);
    const cell = kref(made);
    expect(cell).toMatch(/^ko\d+$/u);
    expect((await send(data, cell, 'bump')).json).toBe(1);
    expect((await send(data, cell, 'bump')).json).toBe(2);
    expect(
      (await send(data, 'counter', 'describe', JSON.stringify({ $kref: cell }))).json,
    ).toBe('a');
    const status = (await cask(['status', '--data', data])).json as { pins: string[] };
    expect(status.pins).toContain(cell);
    const released = await cask(['release', '--data', data, cell]);
    expect(released.code, released.stderr).toBe(0);
    expect((released.json as { released: string[] }).released).toContain(cell);
    const gone = await send(data, cell, 'bump');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/no kernel object or promise/u);
    expect((await cask(['stop', '--data', data])).code).toBe(0);
  }, 120_000);

  it('without a daemon and after a restart: a durable object printed by one send is called by the next', async () => {
    const data = await kernelDir();
    const note = kref(await send(data, 'counter', 'makeNote', '"hello"'));
    expect(note).toMatch(/^ko\d+$/u);
    expect((await send(data, note, 'read')).json).toBe('hello');
    expect((await cask(['restart', '--data', data, 'counter'])).code).toBe(0);
    expect((await send(data, note, 'read')).json).toBe('hello');
    // The same pin serves a daemon started later.
    await startForeground(data);
    expect((await send(data, note, 'read')).json).toBe('hello');
    const stranger = await cask(['release', '--data', data, 'ko999', note]);
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toMatch(
      /cask holds no pin on ko999 .*; nothing was released/u,
    );
    const all = await cask(['release', '--data', data, '--all']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.json).toMatchObject({ released: [note], pinned: [], all: true });
    expect((await cask(['stop', '--data', data])).code).toBe(0);
  }, 120_000);
});

describe('cask upgrade through a daemon', () => {
  it('upgrades the ledger v1 → v2 keeping balances; a rolled-back upgrade leaves the old version its heap; back by --bundle-id', async () => {
    const dir = await tempDir();
    const config = join(dir, 'cluster.json');
    await writeFile(
      config,
      JSON.stringify({
        bootstrap: 'counter',
        vats: {
          counter: await bundleSpec(dir, 'test/vats/daemon-counter.js'),
          ledger: await bundleSpec(dir, 'vats/ledger.js'),
        },
      }),
    );
    const data = join(dir, 'kernel');
    expect((await cask(['run', config, '--data', data])).code).toBe(0);
    const daemon = await startForeground(data);
    const upgrade = (...rest: string[]) => cask(['upgrade', '--data', data, ...rest]);
    expect((await send(data, 'ledger', 'deposit', '"alice"', '30')).json).toBe('30n');

    const up = await upgrade('ledger', resolve(root, 'vats/ledger-v2.js'));
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toMatch(/^upgraded ledger \(v\d+\) from version 1 to version 2 /mu);
    expect((await send(data, 'ledger', 'version')).json).toBe(2);
    expect((await send(data, 'ledger', 'balances')).json).toEqual({ alice: '30n' });

    // The counter's heap count lives in its worker: a rolled-back upgrade keeps it.
    expect((await send(data, 'counter', 'increment')).json).toBe(1);
    const broken = resolve(root, 'test/vats/upgrade/ledger-broken.js');
    const failed = await upgrade('counter', broken);
    expect(failed.code).toBe(1);
    expect(failed.stderr.trim().split('\n').at(-1)).toMatch(
      /^cask: upgrade of vat "counter" \(v\d+\) rolled back: .*broken on purpose.*; its previous version runs on$/u,
    );
    expect((await send(data, 'counter', 'increment')).json).toBe(2);
    // A successful upgrade starts a new worker (to the same code here): the heap is new.
    const same = await upgrade('counter', resolve(root, 'test/vats/daemon-counter.js'));
    expect(same.code, same.stderr).toBe(0);
    expect((await send(data, 'counter', 'increment')).json).toBe(1);

    // versions reads the live kernel and changes nothing.
    const before = await snapshot(data);
    const listed = await cask(['versions', '--data', data, 'ledger']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(await snapshot(data)).toEqual(before);
    const [v1] = (listed.json as { versions: Array<{ bundleId: string }> }).versions;
    const back = await upgrade('ledger', '--bundle-id', v1?.bundleId ?? '');
    expect(back.code, back.stderr).toBe(0);
    expect(back.json).toMatchObject({ from: 2, version: 3 });
    expect((await send(data, 'ledger', 'version')).json).toBe(1);
    expect((await send(data, 'ledger', 'balances')).json).toEqual({ alice: '30n' });

    const unknown = await upgrade('nobody', '--bundle-id', v1?.bundleId ?? '');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toMatch(
      /^cask: no vat named "nobody" in .*; its vats: counter, ledger$/u,
    );
    // A bundle too big for one request is refused by the client, which sends nothing.
    const huge = join(dir, 'huge.json');
    await writeFile(
      huge,
      JSON.stringify({
        moduleFormat: 'endoZipBase64',
        endoZipBase64: `UEsDBA${'A'.repeat(9 * 1024 * 1024)}`,
        endoZipBase64Sha512: '0'.repeat(128),
      }),
    );
    const tooBig = await upgrade('ledger', huge);
    expect(tooBig.code).toBe(1);
    expect(tooBig.stderr.trim()).toMatch(
      /^cask: the upgrade request is \d+ bytes, over the 8388608 a daemon reads in one message; nothing was sent$/u,
    );
    expect((await send(data, 'ledger', 'version')).json).toBe(1);
    expect((await cask(['stop', '--data', data])).code).toBe(0);
    expect(await daemon.exited).toBe(0);
  }, 180_000);
});
