import type { KernelState, VatRecord } from '../../../kernel/index.ts';
import { CommandFailed } from '../io.ts';

/** The vat named `name`, or a failure naming the vats there are. */
export function vatNamed(
  state: KernelState,
  name: string,
  dataDir: string,
  { terminated = false }: { terminated?: boolean } = {},
): VatRecord {
  const vat = state.getVatByName(name);
  if (!vat) {
    const names = state.listVats().map((v) => v.name);
    throw new CommandFailed(
      `no vat named "${name}" in ${dataDir}; its vats: ${names.join(', ')}`,
    );
  }
  if (vat.state === 'terminated' && !terminated) {
    throw new CommandFailed(`vat "${name}" was terminated: ${vat.reason ?? ''}`);
  }
  return vat;
}
