import {
  exactOptional,
  number,
  object,
  record,
  size,
  string,
  union,
  unknown,
} from '@metamask/superstruct';
import {
  checkBundle,
  type KernelState,
  type UpgradeSpec,
  type VatRecord,
} from '../../../kernel/index.ts';
import { RequestError } from '../protocol.ts';
import { defineMethod, LONG_DEADLINE_MS } from './method.ts';
import { refusing, vatNamed } from './vat-named.ts';
import { shortBundleId } from './versions.ts';

const Vat = size(string(), 1, 256);
const Parameters = exactOptional(record(string(), unknown()));

/**
 * Upgrades a running or suspended vat in place (docs/upgrade.md) to new code: a `bundle`
 * (the client bundles a source file itself, so the daemon never reads the client's
 * files), a stored bundle by `bundleId` (a prefix of one the vat has run will do, as
 * `cask versions` prints it) or by `bundleName`. Without `parameters` the vat keeps its
 * current ones. The vat, the bundle and the parameters are checked before anything
 * runs; an upgrade the kernel rolls back is refused with its one-line reason, the old
 * version running on.
 */
export const upgrade = defineMethod({
  name: 'upgrade',
  params: union([
    object({ vat: Vat, bundle: record(string(), unknown()), parameters: Parameters }),
    object({ vat: Vat, bundleId: size(string(), 1, 256), parameters: Parameters }),
    object({ vat: Vat, bundleName: size(string(), 1, 256), parameters: Parameters }),
  ]),
  result: object({
    vat: string(),
    vatId: string(),
    /** The version it ran before. */
    from: number(),
    version: number(),
    incarnation: number(),
    bundleId: string(),
  }),
  // The old worker stops and a new one starts and runs buildRootObject: a restart's wait.
  deadlineMs: () => LONG_DEADLINE_MS,
  async handler(hooks, params) {
    const { kernel } = await hooks.host();
    const vat = vatNamed(kernel.state, params.vat, hooks.dataDir);
    const spec: UpgradeSpec = {
      ...codeOf(kernel.state, vat, params),
      ...(params.parameters === undefined ? {} : { parameters: params.parameters }),
    };
    const from = kernel.vatVersions(vat.vatId).at(-1)?.version ?? 1;
    await hooks.resume();
    const outcome = await refusing(() => kernel.upgradeVat(vat.vatId, spec)).catch(
      (error: unknown) => {
        // The kernel's reason may quote a vat's multi-line error: the CLI says it on one.
        throw error instanceof RequestError
          ? new RequestError(error.message.replace(/\s*\n\s*/gu, ' '))
          : error;
      },
    );
    if (!hooks.keepsHeap) await kernel.whenIdle();
    return {
      vat: vat.name,
      vatId: vat.vatId,
      from,
      version: outcome.version,
      incarnation: outcome.incarnationNumber,
      bundleId: outcome.bundleId,
    };
  },
});

type Code =
  { bundle: Record<string, unknown> } | { bundleId: string } | { bundleName: string };

/** The new code as the kernel takes it, refusing a bundle the kernel would refuse. */
function codeOf(
  state: KernelState,
  vat: VatRecord,
  code: Code,
): Pick<UpgradeSpec, 'bundle' | 'bundleId' | 'bundleName'> {
  if ('bundle' in code) {
    try {
      return { bundle: checkBundle(code.bundle, 'the new bundle') };
    } catch (error) {
      throw new RequestError((error as Error).message);
    }
  }
  if ('bundleName' in code) {
    // Checked here too, before any vat starts: a refusal then changes nothing.
    if (!state.bundleIdNamed(code.bundleName)) {
      throw new RequestError(
        `no bundle named ${JSON.stringify(code.bundleName)} in the kernel (a cluster's bundles are stored under their names)`,
      );
    }
    return { bundleName: code.bundleName };
  }
  return { bundleId: fullBundleId(state, vat, code.bundleId) };
}

/** A stored bundle's id, or the one bundle of the vat's versions it is a prefix of. */
function fullBundleId(state: KernelState, vat: VatRecord, given: string): string {
  if (state.hasBundle(given)) return given;
  const ran = [...new Set(state.vatVersions(vat.vatId).map((v) => v.bundleId))];
  const matches = ran.filter((id) => id.startsWith(given));
  if (matches.length === 1) return matches[0] as string;
  const known = ran.map(shortBundleId).join(', ');
  throw new RequestError(
    matches.length === 0
      ? `the kernel has no bundle ${given}, and vat "${vat.name}" has run none whose id starts so (its bundles: ${known})`
      : `bundle id ${given} is ambiguous: vat "${vat.name}" has run ${matches.map(shortBundleId).join(', ')}; give more of it`,
  );
}
