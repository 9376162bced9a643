export {
  Kernel,
  KernelError,
  makeKernel,
  type CommitLog,
  type CrankRecord,
  type KernelOptions,
  type Settlement,
} from './kernel.ts';
