/**
 * The crash tests' child processes (crash.test.ts, crash-steps.test.ts): each life of the
 * workload is a process that has loaded (Node, SES, the build) and waits on stdin for the
 * life it is to run, touching no data directory before then, so the next life can load
 * while one runs. `endLives` kills whatever still runs and removes the directories the
 * tests made.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';

const workload = resolve(import.meta.dirname, 'workload.mjs');

export type LifeExit = { code: number | null; signal: NodeJS.Signals | null };

export interface LoadedLife {
  child: ChildProcess;
  exit: Promise<LifeExit>;
}

const children = new Set<ChildProcess>();
/** Data directories to remove after the file's tests. */
export const temporaryDirs: string[] = [];

/** For afterAll: kills every life still running and removes `temporaryDirs`. */
export async function endLives(): Promise<void> {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of temporaryDirs.splice(0))
    await rm(dir, { recursive: true, force: true });
}

/** Starts a workload process that waits on stdin for its life. */
export function loadLife(): LoadedLife {
  const { CASK_STEPS: _s, CASK_KILL_AT: _k, CASK_TALLY_BUNDLE: _b, ...env } = process.env;
  const child = spawn(process.execPath, [workload, '--stdin'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env,
  });
  children.add(child);
  const exit = new Promise<LifeExit>((resolveExit) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolveExit({ code, signal });
    });
  });
  return { child, exit };
}
