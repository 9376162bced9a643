// Runs the checkpoint builder's worker from TypeScript source (tests, development): Node
// 20 cannot load .ts in a worker, so this registers tsx (a devDependency) first. The
// compiled build starts worker.js directly and never loads this file.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
