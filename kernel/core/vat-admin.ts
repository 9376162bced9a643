/**
 * The vat admin, a kernel service: vats holding it create vats and subclusters at run
 * time, and end them, as SwingSet's vatAdminService and ocap-kernel's subclusters allow.
 * A vat it creates is stored like a launched one (same tables, same crank log), so it is
 * as durable; its worker starts once the creating crank has committed.
 *
 *   E(vatAdmin).createVat({ bundleName: 'counter' }, { name: 'c2', parameters })
 *     → { root, adminNode }
 *   E(vatAdmin).createSubcluster({ bootstrap, vats: { name: { bundleName | bundleId,
 *     parameters?, globals? } }, services? }) → { roots, adminNodes, bootstrapResult }
 *   E(adminNode).getStatus() → { vatId, name, state, reason, incarnation }
 *   E(adminNode).terminate(reason?)   (its vatstore is kept, as for every termination)
 *   E(adminNode).upgrade(bundleRef, { parameters? }) → { incarnationNumber, version, … }
 *     (docs/upgrade.md; SwingSet's `vatParameters` is accepted for `parameters`)
 *
 * Bundles are named by id (the SHA-512 every bundle carries) or by a name the host gave
 * (Kernel.installBundle, a cluster's `bundles`).
 */
import {
  array,
  exactOptional,
  integer,
  object,
  optional,
  record,
  size,
  string,
  union,
  unknown,
  validate,
  type Struct,
} from '@metamask/superstruct';
import type { ResolvedVatConfig } from '../cluster/index.ts';
import { kser, kslot } from '../marshal/index.ts';
import type { CapData } from '../protocol/index.ts';
import type { KernelState, VatId, VatRecord } from '../state/index.ts';
import { KernelError } from './errors.ts';
import type { KernelService, ServiceCall, ServiceRegistry } from './services.ts';
import { queueUpgrade } from './upgrade.ts';

export const VAT_ADMIN = 'vatAdmin';

/** How a new vat is described: the fields every host's cluster config resolves to. */
export interface NewVat {
  name: string;
  bundleId: string;
  parameters: Record<string, unknown>;
  globals: string[];
  /** The hosts an endowed fetch may reach (see docs/vats.md, Endowments). */
  network?: ResolvedVatConfig['network'];
  deliveryTimeoutMs?: number | undefined;
  reapInterval?: number | 'never' | undefined;
}

/** A vat's parameters as stored: passable data without references. */
export function vatParameters(name: string, value: Record<string, unknown>): CapData {
  let parameters;
  try {
    parameters = kser(structuredClone(value));
  } catch (error) {
    throw new KernelError(
      `parameters of vat "${name}" cannot be passed: ${(error as Error).message}`,
    );
  }
  if (parameters.slots.length > 0) {
    throw new KernelError(
      `parameters of vat "${name}" cannot hold references; send them in a message`,
    );
  }
  return parameters;
}

/** Creates a vat's records in the open crank and queues its startVat. */
export function createVat(state: KernelState, spec: NewVat): VatRecord {
  const parameters = vatParameters(spec.name, spec.parameters);
  const vat = state.createVat({
    name: spec.name,
    bundleId: spec.bundleId,
    parameters,
    globals: [...spec.globals],
    network: spec.network,
    deliveryTimeoutMs: spec.deliveryTimeoutMs,
    reapInterval: spec.reapInterval,
  });
  state.enqueue({ kind: 'startVat', vatId: vat.vatId });
  return vat;
}

const BundleRef = union([
  size(string(), 1, 256),
  object({ bundleId: size(string(), 1, 256) }),
  object({ bundleName: size(string(), 1, 256) }),
]);
const VatSpec = object({
  bundleId: exactOptional(size(string(), 1, 256)),
  bundleName: exactOptional(size(string(), 1, 256)),
  parameters: exactOptional(record(string(), unknown())),
  globals: exactOptional(array(string())),
  deliveryTimeoutMs: exactOptional(size(integer(), 1, 24 * 60 * 60 * 1000)),
});
const CreateOptions = object({
  name: size(string(), 1, 64),
  parameters: exactOptional(record(string(), unknown())),
  globals: exactOptional(array(string())),
  deliveryTimeoutMs: exactOptional(size(integer(), 1, 24 * 60 * 60 * 1000)),
});
// An absent field may come as undefined (SwingSet callers pass `{ vatParameters }`).
const UpgradeOptions = object({
  parameters: optional(record(string(), unknown())),
  /** SwingSet's name for them. */
  vatParameters: optional(record(string(), unknown())),
});
const Subcluster = object({
  bootstrap: size(string(), 1, 64),
  vats: record(size(string(), 1, 64), VatSpec),
  services: exactOptional(array(string())),
});

function check<T>(value: unknown, struct: Struct<T>, what: string): T {
  const [failure, valid] = validate(value, struct);
  if (failure) {
    const first = failure.failures()[0] ?? failure;
    const where = first.path.length ? ` at ${first.path.join('.')}` : '';
    throw new KernelError(`${what}${where}: ${first.message}`);
  }
  return valid;
}

export interface VatAdminDeps {
  /** Starts the workers of vats created by a crank, once it has committed. */
  startWorkers(vats: VatRecord[]): Promise<void>;
  terminate(vatId: VatId, reason: string): Promise<void>;
  /** The other services, for a subcluster's `services`. */
  services: ServiceRegistry;
  /** Vat names the kernel refuses (see cluster/RESERVED_VAT_NAMES). */
  isReservedName(name: string): boolean;
  /** Queues `bootstrap(roots, services)` to `root` in the open crank; its result kpid. */
  queueBootstrap(root: string, roots: unknown, services: unknown): string;
}

export function makeVatAdmin(deps: VatAdminDeps): KernelService {
  const bundleIdOf = (state: KernelState, ref: unknown, where: string): string => {
    const r = check(ref, BundleRef, where);
    const id =
      typeof r === 'string'
        ? r
        : 'bundleId' in r
          ? r.bundleId
          : (state.bundleIdNamed(r.bundleName) ??
            `(no bundle named ${JSON.stringify(r.bundleName)})`);
    if (!state.hasBundle(id)) {
      throw new KernelError(`${where}: the kernel has no bundle ${id}`);
    }
    return id;
  };
  const newVat = (call: ServiceCall, name: string, spec: Omit<NewVat, 'name'>) => {
    if (deps.isReservedName(name) || !/^[A-Za-z_][A-Za-z0-9_-]*$/u.test(name)) {
      throw new KernelError(`"${name}" cannot name a vat`);
    }
    if (call.state.getVatByName(name)) {
      throw new KernelError(`a vat named "${name}" already exists`);
    }
    return createVat(call.state, { name, ...spec });
  };
  const adminNodeOf = (call: ServiceCall, vat: VatRecord) => call.facet(vat.vatId);
  const startAfterCommit = (call: ServiceCall, vats: VatRecord[]) =>
    call.afterCommit(() =>
      deps.startWorkers(vats.map((v) => call.state.requireVat(v.vatId))),
    );

  const root = {
    createVat(call: ServiceCall, bundle: unknown, options: unknown) {
      const o = check(options, CreateOptions, 'createVat options');
      const vat = newVat(call, o.name, {
        bundleId: bundleIdOf(call.state, bundle, 'createVat bundle'),
        parameters: o.parameters ?? {},
        globals: o.globals ?? [],
        deliveryTimeoutMs: o.deliveryTimeoutMs,
      });
      startAfterCommit(call, [vat]);
      return {
        root: kslot(vat.rootKref, 'root'),
        adminNode: adminNodeOf(call, vat),
      };
    },
    createSubcluster(call: ServiceCall, config: unknown) {
      const c = check(config, Subcluster, 'createSubcluster config');
      if (!Object.hasOwn(c.vats, c.bootstrap)) {
        throw new KernelError(
          `createSubcluster config at bootstrap: "${c.bootstrap}" is not one of its vats`,
        );
      }
      const services = deps.services.objectsFor(call.state, c.services ?? []);
      const vats = Object.entries(c.vats).map(([name, spec]) => {
        const ids = [spec.bundleId, spec.bundleName].filter((x) => x !== undefined);
        if (ids.length !== 1) {
          throw new KernelError(
            `createSubcluster config at vats.${name}: give exactly one of bundleId or bundleName`,
          );
        }
        return newVat(call, name, {
          bundleId: bundleIdOf(
            call.state,
            spec.bundleId === undefined
              ? { bundleName: spec.bundleName }
              : { bundleId: spec.bundleId },
            `createSubcluster config at vats.${name}`,
          ),
          parameters: spec.parameters ?? {},
          globals: spec.globals ?? [],
          deliveryTimeoutMs: spec.deliveryTimeoutMs,
        });
      });
      const roots = Object.fromEntries(
        vats.map((v) => [v.name, kslot(v.rootKref, 'root')]),
      );
      const bootstrapVat = vats.find((v) => v.name === c.bootstrap) as VatRecord;
      const kpid = deps.queueBootstrap(
        bootstrapVat.rootKref,
        roots,
        Object.fromEntries(
          Object.entries(services).map(([n, kref]) => [n, kslot(kref, n)]),
        ),
      );
      startAfterCommit(call, vats);
      return {
        roots,
        adminNodes: Object.fromEntries(vats.map((v) => [v.name, adminNodeOf(call, v)])),
        bootstrapResult: kslot(kpid),
      };
    },
  };

  const node = {
    getStatus(call: ServiceCall, vatId: VatId) {
      const vat = call.state.requireVat(vatId);
      return {
        vatId,
        name: vat.name,
        state: vat.state,
        reason: vat.reason,
        incarnation: vat.incarnation,
      };
    },
    /**
     * Upgrades the vat (see ./upgrade.ts): the answer settles when the upgrade's crank
     * has run, with `{ incarnationNumber, version, … }` or why it was rolled back.
     */
    upgrade(call: ServiceCall, vatId: VatId, bundle: unknown, options: unknown = {}) {
      const o = check(options, UpgradeOptions, 'upgrade options');
      if (o.parameters && o.vatParameters) {
        throw new KernelError(
          'upgrade options: give parameters or vatParameters, not both',
        );
      }
      const vat = call.state.requireVat(vatId);
      if (vat.state === 'terminated') {
        throw new KernelError(
          `vat "${vat.name}" (${vatId}) is terminated; it cannot be upgraded`,
        );
      }
      const bundleId = bundleIdOf(call.state, bundle, 'upgrade bundle');
      const given = o.parameters ?? o.vatParameters;
      queueUpgrade(call.state, {
        vatId,
        bundleId,
        parameters: given === undefined ? vat.parameters : vatParameters(vat.name, given),
        result: call.takeResult(),
      });
      return undefined;
    },
    root(call: ServiceCall, vatId: VatId) {
      return kslot(call.state.requireVat(vatId).rootKref, 'root');
    },
    terminate(
      call: ServiceCall,
      vatId: VatId,
      reason: unknown = 'terminated by its vat admin',
    ) {
      if (typeof reason !== 'string' || reason.length > 1000) {
        throw new KernelError('terminate takes a reason of at most 1,000 characters');
      }
      const vat = call.state.requireVat(vatId);
      if (vat.state === 'terminated') return undefined;
      call.afterCommit(() => deps.terminate(vatId, reason));
      return undefined;
    },
  };

  return {
    invoke(call, facet, method, args) {
      if (facet === '') {
        const fn = Object.hasOwn(root, method)
          ? (root as Record<string, (c: ServiceCall, ...a: unknown[]) => unknown>)[method]
          : undefined;
        if (!fn) throw new KernelError(`the vat admin has no method "${method}"`);
        return fn(call, ...args);
      }
      const fn = Object.hasOwn(node, method)
        ? (
            node as Record<string, (c: ServiceCall, v: VatId, ...a: unknown[]) => unknown>
          )[method]
        : undefined;
      if (!fn) throw new KernelError(`a vat admin node has no method "${method}"`);
      return fn(call, facet, ...args);
    },
  };
}
