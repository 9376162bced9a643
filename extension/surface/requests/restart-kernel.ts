import { object } from '@metamask/superstruct';
import { defineMethod } from '../method.ts';

/**
 * Stops the kernel — running nothing more, making what committed durable where storage
 * still allows — and boots it again from storage, as a service-worker restart would.
 * After a storage failure stopped the kernel, this resumes it at the last durable crank
 * once the fault is gone. Answers with the new boot's status.
 */
export const restartKernel = defineMethod({
  name: 'restartKernel',
  params: object({}),
  async handler(hooks) {
    const host = await hooks.restartKernel();
    return { ...host.kernel.status(), bootId: host.bootId };
  },
});
