/** A request to the kernel that cannot be done as asked (unknown vat, bad arguments…). */
export class KernelError extends Error {
  override name = 'KernelError';
}
