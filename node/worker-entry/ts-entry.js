// Runs a worker thread's module from TypeScript source (tests, development): Node 20
// cannot load .ts in a worker, so this registers tsx (a devDependency) first, then loads
// `workerData.entry`. The compiled build starts the .js module directly and never loads
// this file.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
