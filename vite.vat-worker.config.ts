/**
 * The Node host's vat worker as one file, build/node/vat-worker/worker.bundle.cjs
 * (`npm run build`, and bench/run.js after its tsc): a worker then loads one file
 * instead of some hundreds of modules, which was most of its start. Everything is
 * bundled but Node's own modules; the module order is kept, so worker.ts's first import
 * (lockdown) still runs before any other code. A script, not a module, so that
 * node/vat-worker/bundle-loader.ts can compile it with V8's code cache. The launcher
 * (node/vat-worker) takes the bundle only when it is not older than worker.js.
 *
 * One module of a library is replaced: @endo/zip's bytewise CRC-32, by the same function
 * over Node's native one (node/vat-worker/zip-crc32.ts explains).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const zipCrc32 = fileURLToPath(
  new URL('./node/vat-worker/zip-crc32.ts', import.meta.url),
);

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [
    {
      name: 'cask-native-zip-crc32',
      enforce: 'pre',
      resolveId(source, importer) {
        const inEndoZip =
          importer !== undefined && /[\\/]@endo[\\/]zip[\\/]src[\\/]/u.test(importer);
        return inEndoZip && source === './crc32.js' ? zipCrc32 : null;
      },
    },
  ],
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
      // A script is sloppy unless it says otherwise; the modules it bundles were strict.
      output: { format: 'cjs', entryFileNames: '[name].cjs', banner: '"use strict";' },
    },
  },
});
