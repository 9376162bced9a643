import { KernelError, type KernelState, type VatRecord } from '../../../kernel/index.ts';
import { RequestError } from '../protocol.ts';

/** The vat named `name`, or a refusal naming the vats there are. */
export function vatNamed(
  state: KernelState,
  name: string,
  dataDir: string,
  { terminated = false }: { terminated?: boolean } = {},
): VatRecord {
  const vat = state.getVatByName(name);
  if (!vat) {
    const names = state.listVats().map((v) => v.name);
    throw new RequestError(
      `no vat named "${name}" in ${dataDir}; its vats: ${names.join(', ')}`,
    );
  }
  if (vat.state === 'terminated' && !terminated) {
    throw new RequestError(`vat "${name}" was terminated: ${vat.reason ?? ''}`);
  }
  return vat;
}

/** Runs `op`; a KernelError (the caller's mistake, said by the kernel) is a refusal. */
export async function refusing<T>(op: () => T | Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (error) {
    if (error instanceof KernelError) throw new RequestError(error.message);
    throw error;
  }
}
