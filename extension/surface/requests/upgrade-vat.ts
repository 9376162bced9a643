import {
  exactOptional,
  object,
  record,
  refine,
  size,
  string,
  unknown,
} from '@metamask/superstruct';
import {
  checkBundle,
  ClusterConfigError,
  type VatBundle,
  type VatCode,
} from '../../../kernel/index.ts';
import type { UpgradeReport } from '../../surface-protocol/index.ts';
import { defineMethod, SurfaceError } from '../method.ts';
import { vatNamed } from './vat-ref.ts';

const CODE_FIELDS = ['bundleSpec', 'bundle', 'bundleId', 'bundleName'] as const;
const REFUSED = 'upgradeVat refused:';

/**
 * Replaces a running or suspended vat's code, keeping its durable state
 * (docs/upgrade.md). `vat` is its id or name. The new code is exactly one of
 * `bundleSpec` (a bundle the extension ships, named as a cluster config names one),
 * `bundle` (inline, e.g. uploaded in the panel), `bundleId` (a bundle the kernel stores:
 * every version a vat ran is kept, so it can go back) or `bundleName` (a bundle the
 * kernel stores under that name, else the shipped bundles/<name>.bundle.json).
 * `parameters` replace the vat's; without them it keeps its own. Answers once the
 * upgrade is durable, with the version now running. A rolled-back upgrade is refused
 * with the kernel's reason as the kernel gave it; the old version runs on.
 */
export const upgradeVat = defineMethod({
  name: 'upgradeVat',
  params: refine(
    object({
      vat: size(string(), 1, 64),
      bundleSpec: exactOptional(size(string(), 1, 1000)),
      bundle: exactOptional(unknown()),
      bundleId: exactOptional(size(string(), 1, 200)),
      bundleName: exactOptional(size(string(), 1, 200)),
      // Accepted only to be refused with the reason (there is no bundler at run time).
      sourceSpec: exactOptional(unknown()),
      parameters: exactOptional(
        refine(
          record(string(), unknown()),
          'named parameters',
          (value) =>
            !Array.isArray(value) || 'expected an object of named parameters, not a list',
        ),
      ),
    }),
    'one way to name the new code',
    (params) => {
      const given = CODE_FIELDS.filter((f) => params[f] !== undefined);
      if (params.sourceSpec !== undefined || given.length === 1) return true;
      return `give exactly one of ${CODE_FIELDS.join(', ')}; got ${given.length ? given.join(' and ') : 'none'}`;
    },
  ),
  async handler(hooks, params): Promise<UpgradeReport> {
    const { kernel } = await hooks.host();
    let code: VatCode | undefined;
    if (params.sourceSpec !== undefined) {
      code = {
        kind: 'sourceSpec',
        spec: String(params.sourceSpec),
        field: 'params.sourceSpec',
      };
    } else if (params.bundle !== undefined) {
      code = {
        kind: 'bundle',
        bundle: params.bundle as VatBundle,
        field: 'params.bundle',
      };
    } else if (params.bundleSpec !== undefined) {
      code = { kind: 'bundleSpec', spec: params.bundleSpec, field: 'params.bundleSpec' };
    } else if (
      params.bundleName !== undefined &&
      !kernel.state.bundleIdNamed(params.bundleName)
    ) {
      // Not a name the kernel stores: the bundle of that name the extension ships.
      code = { kind: 'bundleName', name: params.bundleName, field: 'params.bundleName' };
    }
    const { vatId } = vatNamed(kernel, params.vat);
    let bundle: VatBundle | undefined;
    if (params.bundle !== undefined) {
      try {
        bundle = checkBundle(params.bundle, 'params.bundle');
      } catch (error) {
        throw new SurfaceError(`${REFUSED} ${(error as Error).message}`);
      }
    } else if (code) {
      try {
        bundle = await hooks.readBundle(code, REFUSED);
      } catch (error) {
        // Worded for this request already; named for the surface.
        if (error instanceof ClusterConfigError) throw new SurfaceError(error.message);
        throw error;
      }
    }
    // The kernel's own refusals and rollback reasons reach the caller as it words them.
    return kernel.upgradeVat(vatId, {
      ...(bundle !== undefined
        ? { bundle }
        : params.bundleName !== undefined
          ? { bundleName: params.bundleName }
          : { bundleId: params.bundleId as string }),
      ...(params.parameters === undefined ? {} : { parameters: params.parameters }),
    });
  },
});
