/**
 * Bundles as a cluster file names them: a path, a file: URL, an http(s) URL (only when
 * allowed, bounded in size and time), a name from the config's `bundles`, and the
 * formats ocap-kernel's bundler writes today, run in a real kernel with vats in workers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kunser } from '../kernel/index.ts';
import { bundleVatSource } from './fixtures/bundle-cache.ts';
import { loadClusterFile } from '../node/cluster-file/index.ts';
import { makeNodeKernel } from '../node/host/index.ts';

const fixtures = resolve(import.meta.dirname, 'fixtures/bundles');

let dir: string;
let server: Server;
let base: string;
/** What the server answers at each path; a path missing here never gets an answer. */
const routes = new Map<string, { status: number; body: string }>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cask-bundle-specs-'));
  const counter = await bundleVatSource(
    resolve(import.meta.dirname, '../vats/counter.js'),
  );
  await writeFile(join(dir, 'counter.bundle'), JSON.stringify(counter));
  await copyFile(join(fixtures, 'bootstrap.js'), join(dir, 'bootstrap.js'));
  await copyFile(join(fixtures, 'iife-counter.bundle'), join(dir, 'iife-counter.bundle'));
  routes.set('/counter.bundle', { status: 200, body: JSON.stringify(counter) });
  routes.set('/missing.bundle', { status: 404, body: 'no' });
  server = createServer((request, response) => {
    const route = routes.get(request.url ?? '');
    if (route === undefined) return; // hangs: the timeout test
    response.writeHead(route.status, { 'content-type': 'application/json' });
    response.end(route.body);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
  await rm(dir, { recursive: true, force: true });
});

async function clusterFile(name: string, config: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, JSON.stringify(config));
  return path;
}

/** Launches the cluster in a kernel in memory and returns bootstrap's result. */
async function run(path: string, options: Parameters<typeof loadClusterFile>[1] = {}) {
  const cluster = await loadClusterFile(path, options);
  const host = await makeNodeKernel();
  try {
    const { result } = await host.kernel.launchCluster(cluster);
    const settled = await result;
    expect(settled.rejected, JSON.stringify(settled.data)).toBe(false);
    return kunser(settled.data) as Record<string, number>;
  } finally {
    await host.close();
  }
}

describe('bundleSpec', () => {
  it('takes a path relative to the cluster file, a file: URL and a bundleName', async () => {
    const path = await clusterFile('local.json', {
      bootstrap: 'bootstrap',
      bundles: { counter: { bundleSpec: './counter.bundle' } },
      vats: {
        bootstrap: { sourceSpec: './bootstrap.js' },
        byPath: { bundleSpec: 'counter.bundle', parameters: { start: 10 } },
        byUrl: {
          bundleSpec: pathToFileURL(join(dir, 'counter.bundle')).href,
          parameters: { start: 20 },
        },
        byName: { bundleName: 'counter', parameters: { start: 30 } },
      },
    });
    expect(await run(path)).toEqual({ byPath: 11, byUrl: 21, byName: 31 });
  });

  it("runs a bundle ocap-kernel's bundler writes today (iife)", async () => {
    const bundle = JSON.parse(await readFile(join(dir, 'iife-counter.bundle'), 'utf8'));
    expect(bundle).toMatchObject({
      moduleFormat: 'iife',
      exports: ['buildRootObject'],
      external: [],
    });
    const path = await clusterFile('iife.json', {
      bootstrap: 'bootstrap',
      vats: {
        bootstrap: { sourceSpec: './bootstrap.js' },
        ocap: { bundleSpec: './iife-counter.bundle', parameters: { start: 41 } },
      },
    });
    expect(await run(path)).toEqual({ ocap: 42 });
  });

  it('fetches an http URL only when allowed', async () => {
    const path = await clusterFile('remote.json', {
      bootstrap: 'bootstrap',
      vats: {
        bootstrap: { sourceSpec: './bootstrap.js' },
        remote: { bundleSpec: `${base}/counter.bundle`, parameters: { start: 1 } },
      },
    });
    await expect(loadClusterFile(path)).rejects.toThrow(
      `vats.remote.bundleSpec ${base}/counter.bundle: bundles are fetched from the network only when allowed (cask run --allow-fetch-bundles)`,
    );
    expect(await run(path, { allowFetch: true })).toEqual({ remote: 2 });
  });

  it('bounds a fetch in size and time, and wants a 200', async () => {
    const spec = (url: string) =>
      clusterFile('bounded.json', { bootstrap: 'v', vats: { v: { bundleSpec: url } } });
    await expect(
      loadClusterFile(await spec(`${base}/counter.bundle`), {
        allowFetch: true,
        fetchLimits: { maxBytes: 1000 },
      }),
    ).rejects.toThrow(
      /vats\.v\.bundleSpec .*: fetching .*: the bundle is (.* )?over the limit of 1000 bytes/u,
    );
    await expect(
      loadClusterFile(await spec(`${base}/missing.bundle`), { allowFetch: true }),
    ).rejects.toThrow('the server answered 404');
    await expect(
      loadClusterFile(await spec(`${base}/never-answers.bundle`), {
        allowFetch: true,
        fetchLimits: { timeoutMs: 300 },
      }),
    ).rejects.toThrow('no complete answer within 300 ms');
  });

  it('refuses other schemes, and sourceSpecs on the network', async () => {
    const one = (vat: unknown) =>
      clusterFile('schemes.json', { bootstrap: 'v', vats: { v: vat } });
    await expect(
      loadClusterFile(await one({ bundleSpec: 'ftp://x/y.bundle' })),
    ).rejects.toThrow(
      'vats.v.bundleSpec ftp://x/y.bundle: a spec is a path, a file: URL or (for bundles) an http(s): URL, not ftp:',
    );
    await expect(
      loadClusterFile(await one({ sourceSpec: `${base}/vat.js` }), { allowFetch: true }),
    ).rejects.toThrow('a sourceSpec is a path or a file: URL');
  });
});

describe('a bad bundle', () => {
  it('is refused at launch, naming the vat and what was wrong', async () => {
    const iife = JSON.parse(await readFile(join(dir, 'iife-counter.bundle'), 'utf8'));
    await writeFile(
      join(dir, 'no-root.bundle'),
      JSON.stringify({ ...iife, exports: ['main'] }),
    );
    await writeFile(join(dir, 'not-json.bundle'), '{"moduleFormat": "endoZipBase64", ');
    const one = (spec: string) =>
      clusterFile('bad.json', { bootstrap: 'v', vats: { v: { bundleSpec: spec } } });
    await expect(loadClusterFile(await one('./no-root.bundle'))).rejects.toThrow(
      'vats.v.bundleSpec ./no-root.bundle: the bundle does not export buildRootObject (it exports main)',
    );
    await expect(loadClusterFile(await one('./not-json.bundle'))).rejects.toThrow(
      'vats.v.bundleSpec ./not-json.bundle: the bundle is not JSON',
    );
    await expect(loadClusterFile(await one('./nowhere.bundle'))).rejects.toThrow(
      'vats.v.bundleSpec ./nowhere.bundle: cannot read the bundle',
    );
  });

  it('names a bundleName the config does not hold', async () => {
    const path = await clusterFile('no-name.json', {
      bootstrap: 'v',
      bundles: { a: { bundleSpec: './counter.bundle' } },
      vats: { v: { bundleName: 'b' } },
    });
    await expect(loadClusterFile(path)).rejects.toThrow(
      'vats.v.bundleName: no bundle "b" in bundles (a)',
    );
  });
});
