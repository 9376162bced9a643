/**
 * The `HandledPromise` a vat's code sees. `@endo/eventual-send` 1.5 hands a handler's
 * send-only operations an undefined result promise, and liveslots 0.11's presence
 * handler then fails before its syscall (it registers the result promise as a WeakMap
 * key): `E.sendOnly(presence).method()` was silently dropped. This one sends a
 * send-only message as an ordinary one whose result nobody reads, which liveslots
 * handles; liveslots itself keeps the realm's HandledPromise.
 */
interface HandledPromiseStatics {
  applyMethod(target: unknown, prop: PropertyKey, args: unknown[]): Promise<unknown>;
  applyFunction(target: unknown, args: unknown[]): Promise<unknown>;
  get(target: unknown, prop: PropertyKey): Promise<unknown>;
}
type HandledPromiseClass = HandledPromiseStatics & (new (...args: never[]) => unknown);

const SEND_ONLY = ['applyMethodSendOnly', 'applyFunctionSendOnly', 'getSendOnly'];

export function makeVatHandledPromise(base: HandledPromiseClass): HandledPromiseClass {
  const ignore = (p: Promise<unknown>): undefined => {
    p.catch(() => undefined);
    return undefined;
  };
  const VatHandledPromise = function HandledPromise(
    this: unknown,
    ...args: unknown[]
  ): unknown {
    if (new.target === undefined) throw TypeError('HandledPromise requires "new"');
    return Reflect.construct(base, args);
  };
  for (const key of Reflect.ownKeys(base)) {
    if (
      typeof key === 'string' &&
      (SEND_ONLY.includes(key) || key === 'length' || key === 'name')
    ) {
      continue;
    }
    const desc = Object.getOwnPropertyDescriptor(base, key);
    if (desc) Object.defineProperty(VatHandledPromise, key, desc);
  }
  const sendOnly: Record<string, (...a: never[]) => undefined> = {
    applyMethodSendOnly: (target: unknown, prop: PropertyKey, args: unknown[]) =>
      ignore(base.applyMethod(target, prop, args)),
    applyFunctionSendOnly: (target: unknown, args: unknown[]) =>
      ignore(base.applyFunction(target, args)),
    getSendOnly: (target: unknown, prop: PropertyKey) => ignore(base.get(target, prop)),
  };
  for (const [key, value] of Object.entries(sendOnly)) {
    Object.defineProperty(VatHandledPromise, key, { value, enumerable: false });
  }
  return harden(VatHandledPromise) as unknown as HandledPromiseClass;
}
