export {
  Kernel,
  KernelError,
  makeKernel,
  type CrankDeltaRecord,
  type CrankRecord,
  type KernelOptions,
  type KernelStatus,
  type PromiseStatus,
  type Settlement,
  type VatLogEntry,
} from './kernel.ts';
