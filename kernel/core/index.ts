export {
  Kernel,
  KernelError,
  makeKernel,
  type CrankRecord,
  type KernelOptions,
  type Settlement,
} from './kernel.ts';
