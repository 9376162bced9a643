/**
 * Kernel services: objects that live in the kernel rather than in a vat (the vat admin,
 * a host's timer, …). A message to one is answered inside the crank that delivers it,
 * synchronously, so its effects commit (or roll back) with that crank. A service object
 * is a kernel object with no owning vat, stored by (service, facet): the service itself
 * is facet '', and a service may hand out more facets (the vat admin's node for each vat
 * it created). Vats reach services through `bootstrap(vats, services)` for the names a
 * cluster config lists, and through what services hand out.
 */
import { kser, kslot, kunser } from '../marshal/index.ts';
import type { CapData } from '../protocol/index.ts';
import type { KernelState, KRef, VatId } from '../state/index.ts';
import { KernelError } from './errors.ts';

/** What a service is given for each message: the kernel's state within the open crank. */
export interface ServiceCall {
  readonly state: KernelState;
  /** The vat that sent the message, or null if it came from outside or the kernel. */
  readonly sender: VatId | null;
  /** The stand-in a service returns (or passes) for `facet` of itself. */
  facet(facet: string): unknown;
  /** Runs `fn` once the crank has committed (never if it is rolled back). */
  afterCommit(fn: () => Promise<void> | void): void;
  /**
   * Takes over the message's result promise (null if the sender wants none): the kernel
   * will not settle it with what `invoke` returns, and the service settles it itself,
   * later (the vat admin's upgrade, in the crank that runs it). The caller must hold a
   * reference to it for as long as it keeps it.
   */
  takeResult(): KRef | null;
}

export interface KernelService {
  /**
   * Answers `method(...args)` sent to `facet` of this service. Arguments and the result
   * are passable values, with kernel objects and promises as kmarshal stand-ins (see
   * kslot/krefOf). A throw rejects the message's result with the error. Must answer
   * synchronously: a service's effects belong to the crank that called it.
   */
  invoke(call: ServiceCall, facet: string, method: string, args: unknown[]): unknown;
}

/** A name for a service: what a cluster config lists in `services`. */
export const SERVICE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/u;

export class ServiceRegistry {
  readonly #services = new Map<string, KernelService>();

  register(name: string, service: KernelService): void {
    if (!SERVICE_NAME.test(name)) {
      throw new KernelError(`${JSON.stringify(name)} cannot name a kernel service`);
    }
    if (this.#services.has(name)) {
      throw new KernelError(`a kernel service named "${name}" is already registered`);
    }
    this.#services.set(name, service);
  }

  names(): string[] {
    return [...this.#services.keys()].sort();
  }

  has(name: string): boolean {
    return this.#services.has(name);
  }

  /** The kref of each named service, for bootstrap; an unknown name is refused. */
  objectsFor(state: KernelState, names: readonly string[]): Record<string, KRef> {
    const unknown = names.filter((n) => !this.#services.has(n));
    if (unknown.length > 0) {
      const offered = this.names();
      throw new KernelError(
        `unknown kernel service${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}: this host offers ${offered.length ? offered.join(', ') : 'none'}`,
      );
    }
    return Object.fromEntries(names.map((n) => [n, state.serviceObject(n, '')]));
  }

  /**
   * Answers a message to a service object: the settlement of its result, or `taken` if
   * the service took the result over. Never throws for what the message or the service
   * did; those reject the result.
   */
  answer(
    state: KernelState,
    service: string,
    facet: string,
    methargs: CapData,
    sender: VatId | null,
    result: KRef | null,
    afterCommit: ServiceCall['afterCommit'],
  ): { taken: true } | { taken: false; rejected: boolean; data: CapData } {
    const impl = this.#services.get(service);
    let taken = false;
    try {
      if (!impl) {
        throw new KernelError(
          `kernel service "${service}" is not offered by this host (it offers ${this.names().join(', ') || 'none'})`,
        );
      }
      const [method, args] = kunser(methargs) as [unknown, unknown[]];
      if (typeof method !== 'string') {
        throw new KernelError(`kernel service "${service}" has only named methods`);
      }
      const call: ServiceCall = {
        state,
        sender,
        facet: (f) => kslot(state.serviceObject(service, f), `${service}:${f}`),
        afterCommit,
        takeResult: () => {
          taken = true;
          return result;
        },
      };
      const value = impl.invoke(call, facet, method, args);
      // A kernel promise's stand-in (kslot('kp…')) is an answer; any other promise is not.
      if (value instanceof Promise && !isKernelPromiseStandin(value)) {
        throw new KernelError(
          `kernel service "${service}" answered ${method} with a promise; services answer within the crank`,
        );
      }
      if (taken) return { taken };
      return { taken, rejected: false, data: kser(value) };
    } catch (error) {
      // A service that took the result and then threw has kept nothing of it.
      return { taken: false, rejected: true, data: kser(asError(error)) };
    }
  }
}

function isKernelPromiseStandin(value: Promise<unknown>): boolean {
  const tag = Object.getOwnPropertyDescriptor(value, Symbol.toStringTag)
    ?.value as unknown;
  return typeof tag === 'string' && tag.startsWith('kp');
}

function asError(error: unknown): Error {
  if (error instanceof Error) return Error(error.message);
  return Error(String(error));
}
