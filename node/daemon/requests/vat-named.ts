import { KernelError, type KernelState, type VatRecord } from '../../../kernel/index.ts';
import { RequestError } from '../protocol.ts';

const VAT_ID = /^v\d+$/u;

/**
 * The vat named `name` (or, if no vat has that name, the vat with that id: `v6`), or a
 * refusal naming the vats there are.
 */
export function vatNamed(
  state: KernelState,
  name: string,
  dataDir: string,
  { terminated = false }: { terminated?: boolean } = {},
): VatRecord {
  const vat =
    state.getVatByName(name) ?? (VAT_ID.test(name) ? state.getVat(name) : undefined);
  if (!vat) {
    const names = state.listVats().map((v) => v.name);
    throw new RequestError(
      `no vat named "${name}" in ${dataDir}; its vats: ${names.join(', ')}`,
    );
  }
  if (vat.state === 'terminated' && !terminated) {
    throw new RequestError(`vat "${vat.name}" was terminated: ${vat.reason ?? ''}`);
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
