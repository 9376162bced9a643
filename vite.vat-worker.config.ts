/**
 * The Node host's vat worker as one file, build/node/vat-worker/worker.bundle.js
 * (`npm run build`, and bench/run.js after its tsc): a worker then loads one module
 * instead of some hundreds, which was most of its start. Everything is bundled but
 * Node's own modules; the module order is kept, so worker.ts's first import (lockdown)
 * still runs before any other code. The launcher (node/vat-worker) takes the bundle only
 * when it is not older than worker.js.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  publicDir: false,
  logLevel: 'warn',
  ssr: { noExternal: true },
  build: {
    ssr: true,
    outDir: fileURLToPath(new URL('./build/node/vat-worker', import.meta.url)),
    emptyOutDir: false,
    copyPublicDir: false,
    minify: false,
    sourcemap: true,
    rolldownOptions: {
      input: { 'worker.bundle': 'node/vat-worker/worker.ts' },
      output: { format: 'esm', entryFileNames: '[name].js' },
    },
  },
});
