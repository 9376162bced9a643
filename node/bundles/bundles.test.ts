/**
 * Bundling in the kernel's realm (locked down under SES, as vitest's setup does): large
 * TypeScript vats bundle one after another in one process, which failed with "Cannot
 * perform DataView.prototype.getInt32 on a detached ArrayBuffer" before the bundler had
 * a realm of its own.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkBundle } from '../../kernel/index.ts';
import { installArrayBufferDetached } from './array-buffer-detached.ts';
import { bundleVatSource, clearBundleCache } from './index.ts';

/** A TypeScript vat of about `functions` × 150 bytes, with types to strip on every line. */
function largeTsVat(tag: string, functions: number): string {
  const lines = [`import { Far } from '@endo/far';`];
  for (let i = 0; i < functions; i += 1) {
    lines.push(
      `export function f${i}(x: number, y: string): { n: number; s: string } { const r: Array<number> = [x, ${i}]; return { n: r[0] + r[1], s: y + '${tag}' }; }`,
    );
  }
  lines.push(
    `interface Root { tag(): string }`,
    `export function buildRootObject(): Root { return Far('Root', { tag: (): string => '${tag}' }); }`,
  );
  return `${lines.join('\n')}\n`;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cask-bundles-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('bundling TypeScript', () => {
  it('bundles three large .ts vats in one process', async () => {
    // Under SES's shim the realm cannot tell a detached buffer from a live one.
    expect(
      Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'detached'),
    ).toBeDefined();
    clearBundleCache();
    const sizes = [100, 400, 800];
    for (const [i, functions] of sizes.entries()) {
      const path = join(dir, `vat${i}.ts`);
      await writeFile(path, largeTsVat(`vat${i}`, functions));
      const bundle = await bundleVatSource(path);
      expect(checkBundle(bundle, path)).toBe(bundle);
    }
  });

  it('reports a vat that does not build, and bundles the next one', async () => {
    const bad = join(dir, 'bad.ts');
    await writeFile(bad, 'export function buildRootObject( {\n');
    await expect(bundleVatSource(bad)).rejects.toThrow(/bad\.ts/u);
    const good = join(dir, 'good.ts');
    await writeFile(good, largeTsVat('good', 10));
    await expect(bundleVatSource(good)).resolves.toMatchObject({
      moduleFormat: 'endoZipBase64',
    });
  });
});

describe('ArrayBuffer.prototype.detached where the engine has none', () => {
  // A fresh realm of this engine: Node 20 has no native `detached`, so the polyfill
  // installs there; on an engine with one it leaves it alone, and the test still holds.
  const realm = () =>
    runInNewContext('({ ArrayBuffer, WebAssembly })') as {
      ArrayBuffer: ArrayBufferConstructor;
      WebAssembly: {
        Memory: new (size: { initial: number; maximum: number }) => {
          buffer: ArrayBuffer;
          grow(pages: number): number;
        };
      };
    };

  it('sees the buffer WebAssembly.Memory.grow replaced as detached', () => {
    const { ArrayBuffer: AB, WebAssembly: Wasm } = realm();
    installArrayBufferDetached(AB);
    const memory = new Wasm.Memory({ initial: 1, maximum: 4 });
    const before = memory.buffer;
    expect(before.detached).toBe(false);
    memory.grow(1);
    expect(before.detached).toBe(true);
    expect(memory.buffer.detached).toBe(false);
  });

  it('tells an empty buffer from a detached one', () => {
    const { ArrayBuffer: AB } = realm();
    installArrayBufferDetached(AB);
    const empty = new AB(0);
    expect(empty.detached).toBe(false);
    const moved = new AB(8);
    structuredClone(moved, { transfer: [moved] });
    expect(moved.detached).toBe(true);
    const getter = Object.getOwnPropertyDescriptor(AB.prototype, 'detached')?.get;
    expect(() => getter?.call({})).toThrow(/incompatible receiver/u);
  });
});
