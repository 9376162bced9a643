/**
 * Bundles one vat source into Endo's `endoZipBase64` format with @endo/bundle-source.
 * Runs in the bundler worker (bundler-worker.ts), never in the kernel's realm: see
 * array-buffer-detached.ts for why.
 */
import bundleSource from '@endo/bundle-source';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { VatBundle } from '../../kernel/protocol/index.ts';

/**
 * A vat file that is not inside any npm package (no package.json above it, e.g. in /tmp)
 * is bundled as if it sat in a package depending on everything Cask depends on, so it can
 * import `@endo/far`, `@endo/exo`, `@endo/patterns`, `@agoric/store` and the rest.
 */
export async function makeBundle(absolute: string): Promise<VatBundle> {
  const powers = hasPackageAbove(absolute) ? undefined : loosePowers(dirname(absolute));
  const bundle = await bundleSource(absolute, { format: 'endoZipBase64' }, powers);
  return {
    moduleFormat: bundle.moduleFormat,
    endoZipBase64: bundle.endoZipBase64,
    endoZipBase64Sha512: bundle.endoZipBase64Sha512,
  };
}

function hasPackageAbove(file: string): boolean {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return true;
    if (dirname(dir) === dir) return false;
  }
}

/** The directory of Cask's own package.json: where its dependencies are resolved from. */
function caskRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw Error('cannot find the Cask package.json');
  }
}

/**
 * File-reading powers for @endo/bundle-source that overlay, onto a loose vat's directory,
 * a package.json declaring Cask's dependencies and a node_modules that resolves them the
 * way Node would from Cask's own package. Nothing is written to disk.
 *
 * Package locations are canonicalized to their real paths, so only the first hop (the
 * vat's own imports) goes through the overlay; the packages' own dependencies resolve
 * from where they really are.
 */
function loosePowers(vatDir: string) {
  const root = caskRoot();
  const { dependencies = {} } = JSON.parse(
    readFileSync(join(root, 'package.json'), 'utf8'),
  ) as { dependencies?: Record<string, string> };
  const dirUrl = `${pathToFileURL(vatDir).href}/`;
  const manifestUrl = `${dirUrl}package.json`;
  const manifest = new TextEncoder().encode(
    JSON.stringify({
      name: 'cask-loose-vat',
      version: '0.0.0',
      type: 'module',
      dependencies,
    }),
  );
  const modulesUrl = `${dirUrl}node_modules/`;

  const packageDirs = new Map<string, string | undefined>();
  /** Where Node would find package `name` from Cask's root. */
  const findPackage = (name: string): string | undefined => {
    if (!packageDirs.has(name)) {
      let found: string | undefined;
      for (let dir = root; ; dir = dirname(dir)) {
        const candidate = join(dir, 'node_modules', name);
        if (existsSync(join(candidate, 'package.json'))) {
          found = candidate;
          break;
        }
        if (dirname(dir) === dir) break;
      }
      packageDirs.set(name, found);
    }
    return packageDirs.get(name);
  };

  /** Maps an overlaid location to a real file path. */
  const toPath = (location: string): string => {
    if (location.startsWith(modulesUrl)) {
      const rest = decodeURIComponent(location.slice(modulesUrl.length));
      const parts = rest.split('/');
      const nameLength = rest.startsWith('@') ? 2 : 1;
      const name = parts.slice(0, nameLength).join('/');
      const dir = findPackage(name);
      if (dir !== undefined) return join(dir, ...parts.slice(nameLength));
    }
    return fileURLToPath(location);
  };

  const read = async (location: string): Promise<Uint8Array> =>
    location === manifestUrl ? manifest : readFile(toPath(location));

  const maybeRead = async (location: string): Promise<Uint8Array | undefined> => {
    try {
      return await read(location);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR') return undefined;
      throw error;
    }
  };

  const canonical = async (location: string): Promise<string> => {
    if (location === manifestUrl) return location;
    const isDir = location.endsWith('/');
    try {
      const real = await realpath(toPath(isDir ? location.slice(0, -1) : location));
      return `${pathToFileURL(real).href}${isDir ? '/' : ''}`;
    } catch {
      // The compartment mapper wants the logical location back when nothing is there.
      return location;
    }
  };

  return { read, maybeRead, canonical } as Parameters<typeof bundleSource>[2];
}
