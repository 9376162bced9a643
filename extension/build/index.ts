/**
 * Build-time steps of the extension (run by vite.config.ts, in Node), after Vite has
 * written the scripts to dist/:
 *
 * - copy the manifest, the HTML pages (and the panel's CSS) and sql.js's wasm;
 * - bundle the sample vats (vats/*.js) into dist/bundles and write the clusters that use
 *   them (vats/*-cluster.json, `sourceSpec` turned into `bundleSpec`) to dist/clusters;
 * - check that lockdown runs first everywhere: every page's first script is
 *   lockdown.js, the service worker's first statement imports it, and no other script
 *   carries a copy of SES. A build that breaks this fails.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

/** The scripts Vite builds, each a classic script (IIFE): entry → dist/<name>.js. */
export const SCRIPTS = {
  lockdown: 'extension/lockdown/index.ts',
  background: 'extension/background/index.ts',
  offscreen: 'extension/offscreen/index.ts',
  vat: 'extension/vat-iframe/index.ts',
  panel: 'extension/panel/index.tsx',
  devtools: 'extension/devtools/index.ts',
} as const;

/** Pages copied as they are: source → dist/<basename>. */
const PAGES = [
  'extension/offscreen/offscreen.html',
  'extension/vat-iframe/vat.html',
  'extension/panel/panel.html',
  'extension/devtools/devtools.html',
];

/** Other files copied as they are (not pages: no scripts to check). */
const ASSETS = ['extension/panel/panel.css'];

/** The service worker's first statement; Vite puts it above the bundle as a banner. */
export const SERVICE_WORKER_BANNER = 'importScripts("lockdown.js");';

/** Text only SES carries: a script other than lockdown.js with it has a second copy. */
const SES_MARKER = 'Already locked down';

export class ExtensionBuildError extends Error {
  override name = 'ExtensionBuildError';
}

export async function finishExtension(root: string, dist: string): Promise<void> {
  await copyStatic(root, dist);
  await buildVatBundles(root, dist);
  await checkLockdownFirst(dist);
}

async function copyStatic(root: string, dist: string): Promise<void> {
  await copyFile(join(root, 'manifest.json'), join(dist, 'manifest.json'));
  for (const file of [...PAGES, ...ASSETS]) {
    await copyFile(join(root, file), join(dist, basename(file)));
  }
  await copyFile(
    join(root, 'node_modules/sql.js/dist/sql-wasm-browser.wasm'),
    join(dist, 'sql-wasm.wasm'),
  );
}

async function buildVatBundles(root: string, dist: string): Promise<void> {
  const vatsDir = join(root, 'vats');
  const files = await readdir(vatsDir);
  await mkdir(join(dist, 'bundles'), { recursive: true });
  await mkdir(join(dist, 'clusters'), { recursive: true });
  const sources = files.filter((f) => f.endsWith('.js')).map((f) => join(vatsDir, f));
  await promisify(execFile)(
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'extension/build/bundle-vats.ts'),
      join(dist, 'bundles'),
      ...sources,
    ],
    { cwd: root },
  );
  for (const file of files.filter((f) => f.endsWith('-cluster.json')).sort()) {
    const config = JSON.parse(await readFile(join(vatsDir, file), 'utf8')) as {
      vats: Record<string, { sourceSpec?: string; bundleSpec?: string }>;
    };
    for (const [name, vat] of Object.entries(config.vats)) {
      if (vat.sourceSpec === undefined) continue;
      const source = resolve(vatsDir, vat.sourceSpec);
      if (dirname(source) !== vatsDir) {
        throw new ExtensionBuildError(
          `${file}: vats.${name}.sourceSpec ${vat.sourceSpec} is outside vats/; only vats/*.js are bundled`,
        );
      }
      delete vat.sourceSpec;
      vat.bundleSpec = `bundles/${basename(source).replace(/\.js$/u, '.bundle.json')}`;
    }
    await writeFile(join(dist, 'clusters', file), `${JSON.stringify(config, null, 2)}\n`);
  }
}

async function checkLockdownFirst(dist: string): Promise<void> {
  const problems: string[] = [];
  for (const page of PAGES.map((p) => basename(p))) {
    const html = await readFile(join(dist, page), 'utf8');
    if (!/<meta charset="utf-8"/iu.test(html)) {
      problems.push(`${page} does not declare <meta charset="utf-8"> (SES needs it)`);
    }
    const first = /<script\b[^>]*>/iu.exec(html)?.[0] ?? '';
    if (
      !/\bsrc="lockdown\.js"/u.test(first) ||
      /\b(?:type="module"|async|defer)\b/u.test(first)
    ) {
      problems.push(
        `${page}: the first script is not a plain <script src="lockdown.js">`,
      );
    }
  }
  const worker = await readFile(join(dist, 'background.js'), 'utf8');
  if (!worker.startsWith(SERVICE_WORKER_BANNER)) {
    problems.push(`background.js does not start with ${SERVICE_WORKER_BANNER}`);
  }
  const manifest = JSON.parse(await readFile(join(dist, 'manifest.json'), 'utf8')) as {
    background?: { service_worker?: string; type?: string };
  };
  if (
    manifest.background?.service_worker !== 'background.js' ||
    manifest.background.type
  ) {
    problems.push(
      'manifest.json: the service worker must be the classic script background.js',
    );
  }
  for (const name of Object.keys(SCRIPTS)) {
    if (name === 'lockdown') continue;
    const script = await readFile(join(dist, `${name}.js`), 'utf8');
    if (script.includes(SES_MARKER)) {
      problems.push(`${name}.js carries its own copy of SES; only lockdown.js may`);
    }
  }
  const lockdown = await readFile(join(dist, 'lockdown.js'), 'utf8');
  if (!lockdown.includes(SES_MARKER)) problems.push('lockdown.js does not contain SES');
  if (problems.length > 0) {
    throw new ExtensionBuildError(
      `lockdown would not run first:\n  ${problems.join('\n  ')}`,
    );
  }
}
