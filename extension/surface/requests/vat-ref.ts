import type { Kernel, VatRecord } from '../../../kernel/index.ts';
import { SurfaceError } from '../method.ts';

/**
 * The vat a request names, by id ("v3") or by name ("ledger"). An id is tried first:
 * ids are the kernel's own and cannot be mistaken, names are the cluster author's.
 */
export function vatNamed(kernel: Kernel, vat: string): VatRecord {
  const found = kernel.state.getVat(vat) ?? kernel.state.getVatByName(vat);
  if (!found) throw new SurfaceError(`no vat with id or name ${JSON.stringify(vat)}`);
  return found;
}
