import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeFileSystem } from './fs.ts';
import { DataDirectoryLockedError, openFileStorage } from './index.ts';
import { lockDirectory } from './lock.ts';

const holderScript = resolve(import.meta.dirname, 'lock-holder.mjs');
const repo = resolve(import.meta.dirname, '../..');

const temporaryDirs: string[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGKILL');
      await exited;
    }
  }
  for (const dir of temporaryDirs.splice(0))
    await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cask-lock-'));
  temporaryDirs.push(dir);
  return dir;
}

/** A directory holding a (new, empty) kernel: what a first open leaves. */
async function kernelDir(): Promise<string> {
  const dir = await tempDir();
  await (await openFileStorage(dir)).close();
  return dir;
}

/** Runs a node child to its end and returns its pid: a pid no process has any more. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((done) => child.once('exit', done));
  return child.pid as number;
}

interface Holder {
  pid: number;
  /** The next line it prints (rejects if it exits first). */
  next(): Promise<string>;
  send(line: string): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): Promise<void>;
}

function startHolder(dir: string, ...args: string[]): Holder {
  const child = spawn(process.execPath, ['--import', 'tsx', holderScript, dir, ...args], {
    cwd: repo,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines: string[] = [];
  const waiting: Array<{ take: (line: string) => void; fail: (e: Error) => void }> = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (done) => {
      child.once('exit', (code, signal) => {
        for (const w of waiting.splice(0)) {
          w.fail(new Error(`the holder exited (${code ?? signal}) first: ${stderr}`));
        }
        done({ code, signal });
      });
    },
  );
  createInterface({ input: child.stdout }).on('line', (line) => {
    const waiter = waiting.shift();
    if (waiter) waiter.take(line);
    else lines.push(line);
  });
  return {
    pid: child.pid as number,
    next: () =>
      lines.length > 0
        ? Promise.resolve(lines.shift() as string)
        : new Promise((take, fail) => {
            if (child.exitCode !== null || child.signalCode !== null) {
              fail(new Error(`the holder has exited: ${stderr}`));
            } else waiting.push({ take, fail });
          }),
    send: (line) => child.stdin.write(`${line}\n`),
    exited,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

const inUse = (dir: string, pid: number) =>
  `data directory ${dir} is in use by another cask process (pid ${pid}); stop it first`;

describe('the data directory lock', () => {
  it('refuses a second open in the same process, naming its pid', async () => {
    const dir = await tempDir();
    const first = await openFileStorage(dir);
    const second = openFileStorage(dir);
    await expect(second).rejects.toThrow(DataDirectoryLockedError);
    await expect(second).rejects.toThrow(inUse(dir, process.pid));
    expect(await readFile(join(dir, 'LOCK'), 'utf8')).toMatch(
      new RegExp(`^${process.pid} ${hostname()} \\d{4}-\\d\\d-\\d\\dT`, 'u'),
    );
    await first.close();
    await expect(readdir(dir)).resolves.not.toContain('LOCK');
    await (await openFileStorage(dir)).close();
  });

  it('is the same lock for the same directory reached through a symlink', async () => {
    const dir = await tempDir();
    const link = join(await tempDir(), 'link');
    await symlink(dir, link);
    const first = await openFileStorage(dir);
    await expect(openFileStorage(link)).rejects.toThrow(inUse(link, process.pid));
    await first.close();
    const throughLink = await openFileStorage(link);
    await expect(openFileStorage(dir)).rejects.toThrow(inUse(dir, process.pid));
    await throughLink.close();
  });

  it('with a stale LOCK, of three processes opening at once exactly one owns the directory', async () => {
    const dir = await kernelDir();
    const stale = await deadPid();
    await writeFile(
      join(dir, 'LOCK'),
      `${stale} ${hostname()} 2026-01-01T00:00:00.000Z\n`,
    );
    const holders = [startHolder(dir), startHolder(dir), startHolder(dir)];
    for (const holder of holders) expect(await holder.next()).toBe('ready');
    for (const holder of holders) holder.send('go');
    // Each holds what it got until told to exit, so all three answers stand together.
    const answers = await Promise.all(holders.map((holder) => holder.next()));
    const owners = holders.filter((_, i) => answers[i]?.startsWith('locked '));
    expect(owners).toHaveLength(1);
    const [owner] = owners as [Holder];
    expect(answers).toContain(`locked ${owner.pid}`);
    const refused = answers.filter((answer) => !answer.startsWith('locked '));
    expect(refused).toHaveLength(2);
    for (const answer of refused) {
      expect(answer).toMatch(
        /^refused DataDirectoryLockedError data directory .* is in use by another cask process/u,
      );
    }
    expect(await readFile(join(dir, 'LOCK'), 'utf8')).toMatch(
      new RegExp(`^${owner.pid} ${hostname()} `, 'u'),
    );
    await expect(openFileStorage(dir)).rejects.toThrow(inUse(dir, owner.pid));
    for (const holder of holders) holder.send('exit');
    for (const holder of holders)
      expect(await holder.exited).toEqual({ code: 0, signal: null });
    await expect(readdir(dir)).resolves.not.toContain('LOCK');
  });

  it('is free at once when its owner is killed with SIGKILL', async () => {
    const dir = await kernelDir();
    const holder = startHolder(dir);
    expect(await holder.next()).toBe('ready');
    holder.send('go');
    expect(await holder.next()).toBe(`locked ${holder.pid}`);
    await expect(openFileStorage(dir)).rejects.toThrow(inUse(dir, holder.pid));
    await holder.kill();
    // The dead owner's LOCK is still there, and stands in nobody's way.
    expect(await readFile(join(dir, 'LOCK'), 'utf8')).toMatch(
      new RegExp(`^${holder.pid} `, 'u'),
    );
    const storage = await openFileStorage(dir);
    expect(await readFile(join(dir, 'LOCK'), 'utf8')).toMatch(
      new RegExp(`^${process.pid} `, 'u'),
    );
    await storage.close();
  });

  it('does not keep its process alive', async () => {
    const dir = await tempDir();
    const holder = startHolder(dir, '--then-end');
    expect(await holder.next()).toBe(`locked ${holder.pid}`);
    expect(await holder.exited).toEqual({ code: 0, signal: null });
  });

  it('refuses when LOCK names another host, and leaves LOCK alone', async () => {
    const dir = await kernelDir();
    const lock = `4242 some-other-host 2026-01-01T00:00:00.000Z\n`;
    await writeFile(join(dir, 'LOCK'), lock);
    for (const readOnly of [false, true]) {
      await expect(openFileStorage(dir, { readOnly })).rejects.toThrow(
        `data directory ${dir} is locked by a process on host some-other-host; if none runs there, delete ${join(dir, 'LOCK')}`,
      );
    }
    expect(await readFile(join(dir, 'LOCK'), 'utf8')).toBe(lock);
    // The refused opens let the socket go again.
    await rm(join(dir, 'LOCK'));
    await (await openFileStorage(dir)).close();
  });

  it('keeps a writer out while a reader holds it, and a reader while a writer does', async () => {
    const dir = await kernelDir();
    const reader = await openFileStorage(dir, { readOnly: true });
    await expect(openFileStorage(dir)).rejects.toThrow(
      /is in use by another cask process \(one that is starting, or only reading it/u,
    );
    await reader.close();
    const writer = await openFileStorage(dir);
    await expect(openFileStorage(dir, { readOnly: true })).rejects.toThrow(
      inUse(dir, process.pid),
    );
    await writer.close();
  });
});

describe('the LOCK file lock (platforms other than Linux)', () => {
  const fileLock = (dir: string, readOnly = false) =>
    lockDirectory(nodeFileSystem, dir, { readOnly, platform: 'darwin' });

  it('creates LOCK naming this process, refuses a second owner, and removes it on release', async () => {
    const dir = await tempDir();
    const lock = await fileLock(dir);
    expect(await readFile(join(dir, 'LOCK'), 'utf8')).toMatch(
      new RegExp(`^${process.pid} ${hostname()} `, 'u'),
    );
    await expect(fileLock(dir)).rejects.toThrow(inUse(dir, process.pid));
    await expect(fileLock(dir, true)).rejects.toThrow(inUse(dir, process.pid));
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('never takes over a stale LOCK: it says the pid is gone and what to delete', async () => {
    const dir = await tempDir();
    const stale = await deadPid();
    const content = `${stale} ${hostname()} 2026-01-01T00:00:00.000Z\n`;
    await writeFile(join(dir, 'LOCK'), content);
    await expect(fileLock(dir)).rejects.toThrow(
      `data directory ${dir} is locked by pid ${stale}, which is no longer running; if no cask uses ${dir}, delete ${join(dir, 'LOCK')}`,
    );
    expect(await readFile(join(dir, 'LOCK'), 'utf8')).toBe(content);
    // A reader writes nothing, so a dead owner's LOCK does not stop it.
    await (await fileLock(dir, true)).release();
    expect(await readFile(join(dir, 'LOCK'), 'utf8')).toBe(content);
  });

  it('refuses a LOCK that names no process, or another host', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'LOCK'), '');
    await expect(fileLock(dir)).rejects.toThrow(
      `data directory ${dir} is locked, but ${join(dir, 'LOCK')} names no process; if no cask uses ${dir}, delete ${join(dir, 'LOCK')}`,
    );
    await writeFile(join(dir, 'LOCK'), `1 some-other-host 2026-01-01T00:00:00.000Z\n`);
    await expect(fileLock(dir)).rejects.toThrow(
      /locked by a process on host some-other-host/u,
    );
  });

  it('a reader creates no LOCK', async () => {
    const dir = await tempDir();
    await (await fileLock(dir, true)).release();
    expect(await readdir(dir)).toEqual([]);
  });
});
