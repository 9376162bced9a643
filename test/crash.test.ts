/**
 * Kill -9: a child process runs a workload against a kernel in a data directory and
 * reports each add as it becomes durable; we SIGKILL it, restart it, and check that the
 * recovered state is exactly the state after some prefix of adds, that it holds every add
 * reported durable, and that the run then goes on to the expected final state. Here at
 * random moments (some lives right as a checkpoint starts); at every step of the storage,
 * deterministically, in crash-steps.test.ts (a file of its own, so that the two long
 * tests run side by side).
 *
 * Needs the build (npm test builds first).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { endLives, loadLife, temporaryDirs, type LoadedLife } from './crash/lives.ts';

afterAll(endLives);

const KILLS = 52;

interface Life {
  /** "state" line after recovery: the count and whether the marks are exactly 1..count. */
  recovered?: { count: number; ok: boolean };
  maxDurable: number;
  checkpoints: number;
  killedAtCheckpoint: boolean;
  done?: { count: number; ok: boolean };
  exit: { code: number | null; signal: NodeJS.Signals | null };
  stderr: string;
}

/** A small seeded generator, so a failing run can be repeated with CASK_CRASH_SEED. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The next life's process, loading while the life before it runs. */
let next: LoadedLife | undefined;

async function live(
  dataDir: string,
  target: number,
  kill: { afterMs: number; atCheckpoint: boolean } | undefined,
): Promise<Life> {
  const { child, exit } = next ?? loadLife();
  // The last life loads none after it.
  next = kill ? loadLife() : undefined;
  const life: Life = {
    maxDurable: 0,
    checkpoints: 0,
    killedAtCheckpoint: false,
    exit: { code: null, signal: null },
    stderr: '',
  };
  let timer: NodeJS.Timeout | undefined;
  const killNow = (atCheckpoint: boolean) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    life.killedAtCheckpoint = atCheckpoint;
    child.kill('SIGKILL');
  };
  child.stderr?.on('data', (chunk: Buffer) => {
    life.stderr += chunk.toString();
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  lines.on('line', (line) => {
    const [word, a, b] = line.split(' ');
    if (word === 'state') {
      life.recovered = { count: Number(a), ok: b === 'true' };
      // The kill moment is random on purpose: it is the test's input, not a wait.
      if (kill && !kill.atCheckpoint)
        timer = setTimeout(() => killNow(false), kill.afterMs);
    } else if (word === 'durable') {
      life.maxDurable = Math.max(life.maxDurable, Number(a));
    } else if (word === 'checkpoint') {
      life.checkpoints += 1;
      if (kill?.atCheckpoint) killNow(true);
    } else if (word === 'done') {
      life.done = { count: Number(a), ok: b === 'true' };
    }
  });
  const read = new Promise((resolveRead) => lines.on('close', resolveRead));
  // A process that died while loading has closed its stdin: the write then fails.
  child.stdin?.on('error', () => undefined);
  child.stdin?.end(`${JSON.stringify({ dataDir, target, env: {} })}\n`);
  // Every line read, and the process gone.
  const [ended] = await Promise.all([exit, read]);
  clearTimeout(timer);
  life.exit = ended;
  return life;
}

describe('crash recovery under SIGKILL', () => {
  it(`recovers a prefix holding every durable add, across ${KILLS} kills`, async () => {
    const seed = Number(process.env.CASK_CRASH_SEED ?? Date.now() % 1_000_000);
    const rand = random(seed);
    const dataDir = await mkdtemp(join(tmpdir(), 'cask-crash-'));
    temporaryDirs.push(dataDir);
    let durable = 0;
    // The most adds a recovery found: more than `durable` when a life was killed after
    // adds became durable but before it said so. The last life's target counts from it.
    let recoveredMost = 0;
    let killsAtCheckpoint = 0;
    let kills = 0;
    for (let i = 0; i < KILLS; i += 1) {
      const atCheckpoint = i % 4 === 3;
      const life = await live(dataDir, 1_000_000, {
        afterMs: Math.floor(rand() * 400),
        atCheckpoint,
      });
      const where = `seed ${seed}, life ${i}: ${life.stderr.slice(-2000)}`;
      expect(life.exit.signal, where).toBe('SIGKILL');
      kills += 1;
      if (life.killedAtCheckpoint) killsAtCheckpoint += 1;
      if (life.recovered) {
        // Exactly a prefix (marks 1..count, nothing else), holding every durable add.
        expect(life.recovered.ok, where).toBe(true);
        expect(life.recovered.count, where).toBeGreaterThanOrEqual(durable);
        recoveredMost = Math.max(recoveredMost, life.recovered.count);
      }
      durable = Math.max(durable, life.maxDurable);
    }
    const target = Math.max(durable, recoveredMost) + 300;
    const last = await live(dataDir, target, undefined);
    const where = `seed ${seed}, final life: ${last.stderr.slice(-2000)}`;
    expect(last.exit.code, where).toBe(0);
    expect(last.recovered?.ok, where).toBe(true);
    expect(last.recovered?.count, where).toBeGreaterThanOrEqual(durable);
    expect(last.done, where).toEqual({ count: target, ok: true });
    expect(kills).toBe(KILLS);
    expect(killsAtCheckpoint, `seed ${seed}`).toBeGreaterThanOrEqual(KILLS / 4 - 2);
    expect(durable, `seed ${seed}`).toBeGreaterThan(KILLS);
  }, 600_000);
});
