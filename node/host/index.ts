/**
 * The Node host: a kernel with its store in sql.js and each vat in a worker thread.
 */
import initSqlJs from 'sql.js';
import {
  KernelStore,
  makeKernel,
  type Kernel,
  type KernelOptions,
  type VatLauncher,
} from '../../kernel/index.ts';
import { makeNodeVatLauncher } from '../vat-worker/index.ts';

export interface NodeKernel {
  kernel: Kernel;
  store: KernelStore;
  /** Stops every vat worker and closes the store. */
  close(): Promise<void>;
}

export interface NodeKernelOptions {
  launcher?: VatLauncher;
  onCrank?: KernelOptions['onCrank'];
  onCommit?: KernelOptions['onCommit'];
  reapInterval?: number;
}

export async function makeNodeKernel(
  options: NodeKernelOptions = {},
): Promise<NodeKernel> {
  const SQL = await initSqlJs();
  const store = KernelStore.open(SQL);
  const kernel = makeKernel({
    store,
    platform: {
      vats: options.launcher ?? makeNodeVatLauncher(),
      now: () => performance.now(),
    },
    ...(options.onCrank ? { onCrank: options.onCrank } : {}),
    ...(options.onCommit ? { onCommit: options.onCommit } : {}),
    ...(options.reapInterval ? { reapInterval: options.reapInterval } : {}),
  });
  return {
    kernel,
    store,
    async close() {
      await kernel.shutdown();
      store.close();
    },
  };
}
