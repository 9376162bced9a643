export {
  Kernel,
  KernelError,
  makeKernel,
  VAT_ADMIN,
  type KernelService,
  type ServiceCall,
  type CrankDeltaRecord,
  type CrankRecord,
  type KernelOptions,
  type KernelStatus,
  type PromiseStatus,
  type Settlement,
} from './kernel.ts';
