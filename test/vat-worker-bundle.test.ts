/**
 * The build's vat worker: one file (vite.vat-worker.config.ts), which a worker loads in
 * well under half the time of the modules it bundles, compiled with V8's code cache
 * (node/vat-worker/bundle-loader.ts). Needs the build (`npm run build`, as the crash
 * tests do). The launcher takes it only when it is not older than worker.js, so a tsc
 * run alone never leaves workers on stale code.
 */
import { existsSync, rmSync, statSync, utimesSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const dir = new URL('../build/node/vat-worker/', import.meta.url);
const modules = fileURLToPath(new URL('worker.js', dir));
const built = await import(new URL('index.js', dir).href);
const entryOf = built.vatWorkerEntry as () => { url: URL };

const original = statSync(modules);
afterAll(() => utimesSync(modules, original.atime, original.mtime));

describe('the built vat worker', () => {
  it('starts from the one-file bundle, writes its code cache, and a vat in it answers with and without the cache', async () => {
    expect(entryOf().url.pathname).toMatch(/\/bundle-loader\.js$/u);
    const cache = fileURLToPath(new URL('worker.bundle.cjs.v8-cache', dir));
    rmSync(cache, { force: true });
    for (const round of ['no cache', 'cache']) {
      const launcher = built.makeNodeVatLauncher();
      const channel = await launcher.launch('v1');
      const exited = new Promise<string>((resolve) => channel.onExit(resolve));
      // Not a message the worker takes: it refuses it by name, so its code ran.
      channel.send({ type: 'nonsense' });
      expect(await exited, round).toMatch(
        /ProtocolError: invalid message from kernel at type/u,
      );
      await channel.close();
      expect(existsSync(cache), round).toBe(true);
    }
  });

  it('starts warm workers ahead of launches, which take them; close ends the rest', async () => {
    const launcher = built.makeNodeVatLauncher({ warm: 2 });
    expect(launcher.warmWorkers).toBe(2);
    const channel = await launcher.launch('v1');
    expect(launcher.warmWorkers).toBe(1);
    const exited = new Promise<string>((resolve) => channel.onExit(resolve));
    channel.send({ type: 'nonsense' });
    expect(await exited).toMatch(/ProtocolError: invalid message from kernel at type/u);
    await launcher.close();
    expect(launcher.warmWorkers).toBe(0);
    await channel.close();
  });

  it('falls back to the modules when the bundle is older than worker.js', () => {
    const later = new Date(Date.now() + 60_000);
    utimesSync(modules, later, later);
    expect(entryOf().url.pathname).toMatch(/\/worker\.js$/u);
  });
});
