export {
  Kernel,
  KernelError,
  makeKernel,
  type CommitLog,
  type CrankRecord,
  type KernelOptions,
  type KernelStatus,
  type PromiseStatus,
  type Settlement,
} from './kernel.ts';
