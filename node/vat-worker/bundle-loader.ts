/**
 * Where a vat worker starts from the build: the one-file worker (worker.bundle.cjs,
 * vite.vat-worker.config.ts) run with V8's code cache (node/code-cache). A resume waits
 * for its first vat's worker, and compiling the bundle was most of that worker's start.
 */
import { fileURLToPath } from 'node:url';
import { runWithCodeCache } from '../code-cache/index.ts';

runWithCodeCache(fileURLToPath(new URL('./worker.bundle.cjs', import.meta.url)));
