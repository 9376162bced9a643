/**
 * The Node host as one file, build/node/bundled/cask.bundle.cjs (`npm run build`): the
 * CLI, the host and the kernel, for bin/cask.js (node/bundled says why). Everything is
 * bundled but Node's own modules and sql.js, which finds its wasm file beside its own
 * module. bin/cask.js takes the bundle only when it is not older than the compiled CLI.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  publicDir: false,
  logLevel: 'warn',
  ssr: { noExternal: true, external: ['sql.js'] },
  build: {
    ssr: true,
    outDir: fileURLToPath(new URL('./build/node/bundled', import.meta.url)),
    emptyOutDir: false,
    copyPublicDir: false,
    minify: false,
    sourcemap: true,
    rolldownOptions: {
      input: { 'cask.bundle': 'node/bundled/index.ts' },
      // A script (run with V8's code cache, node/code-cache), strict as its modules were.
      output: { format: 'cjs', entryFileNames: '[name].cjs', banner: '"use strict";' },
    },
  },
});
