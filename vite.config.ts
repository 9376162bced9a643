/**
 * Builds the browser extension into dist/ (`npm run build`; load dist/ unpacked).
 *
 * Every script is a classic script in one file (IIFE), built as its own Vite
 * environment: a page loads lockdown.js with a plain <script> before its own, and the
 * service worker's first statement is importScripts('lockdown.js'), so SES hardens each
 * realm before any other code runs, whatever a bundler does with module order. Then
 * extension/build copies the pages, bundles the sample vats and checks that ordering.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig, type EnvironmentOptions } from 'vite';
import {
  SCRIPTS,
  SERVICE_WORKER_BANNER,
  finishExtension,
} from './extension/build/index.ts';

const root = fileURLToPath(new URL('.', import.meta.url));
const dist = fileURLToPath(new URL('./dist', import.meta.url));

function script(name: keyof typeof SCRIPTS): EnvironmentOptions {
  return {
    consumer: 'client',
    build: {
      outDir: dist,
      emptyOutDir: false,
      copyPublicDir: false,
      // Readable stacks in vats and the kernel matter more than bytes here.
      minify: false,
      sourcemap: true,
      lib: {
        entry: SCRIPTS[name],
        formats: ['iife'],
        name: `cask_${name}`,
        fileName: () => `${name}.js`,
      },
      rolldownOptions: {
        output: {
          // SES refuses to run in sloppy mode, and a classic script is sloppy unless told.
          intro: '"use strict";',
          ...(name === 'background' ? { banner: SERVICE_WORKER_BANNER } : {}),
        },
      },
    },
  };
}

export default defineConfig({
  root,
  publicDir: false,
  logLevel: 'warn',
  define: {
    'process.env.NODE_ENV': JSON.stringify('production'),
    // CASK_CHECK_STATE=1 npm run build: the kernel checks its memory copy after every crank.
    __CASK_CHECK_STATE__: JSON.stringify(process.env['CASK_CHECK_STATE'] === '1'),
  },
  // JSX (only the panel has any) is Preact's.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  environments: Object.fromEntries(
    Object.keys(SCRIPTS).map((name) => [name, script(name as keyof typeof SCRIPTS)]),
  ),
  builder: {
    async buildApp(builder) {
      const { rm } = await import('node:fs/promises');
      await rm(dist, { recursive: true, force: true });
      for (const name of Object.keys(SCRIPTS)) {
        const environment = builder.environments[name];
        if (environment) await builder.build(environment);
      }
      await finishExtension(root, dist);
    },
  },
});
