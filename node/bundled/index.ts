/**
 * The Node host as one file: `npm run build` bundles this module and all it imports into
 * build/node/bundled/cask.bundle.cjs (vite.host.config.ts), which bin/cask.js runs with
 * V8's code cache (node/code-cache). A process then parses one file instead of some
 * hundreds of modules, which was most of its start (≈ 290 ms of ≈ 400 before the first
 * command line ran). Lockdown comes first,
 * as in every host: the module order is kept in the bundle. Worker threads start from
 * their own rooms (node/worker-entry), not from here.
 */
import '../../vat-supervisor/lockdown.ts';

export { main } from '../cli/index.ts';
export { makeNodeKernel, type NodeKernel } from '../host/index.ts';
export { bundleVatSource } from '../bundles/index.ts';
