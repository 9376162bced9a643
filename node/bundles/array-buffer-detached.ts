/**
 * `ArrayBuffer.prototype.detached` (ES2024) for engines that lack it, Node 20 among them.
 *
 * Why: SES installs @endo/immutable-arraybuffer's shim when it is imported, and on an
 * engine without a native `detached` that shim's getter answers `false` for every
 * genuine buffer, detached or not. wasm-bindgen's glue (amaro, the TypeScript stripper
 * @endo/bundle-source uses) keeps a DataView over the wasm memory and asks
 * `buffer.detached === true || (buffer.detached === undefined && buffer !==
 * memory.buffer)` to see whether `WebAssembly.Memory.grow` has replaced the buffer. Under
 * the shim neither holds after a grow, so it goes on reading the old, detached buffer:
 * "Cannot perform DataView.prototype.getInt32 on a detached ArrayBuffer" once a large
 * `.ts` file has grown amaro's memory.
 *
 * The shim delegates to a native `detached` when one is there when it loads, so installing
 * a truthful one first (before `ses` is imported) makes the shim truthful too. Only a
 * realm Cask controls from its first import can do that: the bundler's worker.
 */
export function installArrayBufferDetached(AB: ArrayBufferConstructor): void {
  const proto = AB.prototype;
  if (Object.getOwnPropertyDescriptor(proto, 'detached')) return;
  const byteLength = Object.getOwnPropertyDescriptor(proto, 'byteLength')?.get;
  const { slice } = proto;
  if (byteLength === undefined) return;
  Object.defineProperty(proto, 'detached', {
    configurable: true,
    enumerable: false,
    get(this: ArrayBuffer): boolean {
      // A detached buffer has length 0 (and a non-buffer receiver throws, as natively);
      // only an empty buffer needs the slower test: slicing a detached one throws.
      if (Reflect.apply(byteLength, this, []) !== 0) return false;
      try {
        Reflect.apply(slice, this, [0, 0]);
        return false;
      } catch {
        return true;
      }
    },
  });
}

installArrayBufferDetached(ArrayBuffer);
