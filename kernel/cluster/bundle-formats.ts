/**
 * The bundle formats a vat may come in, checked where a host reads them so that a bad
 * bundle is refused at launch, naming the vat, rather than failing inside its worker:
 *
 * - `endoZipBase64`: Endo's archive (@endo/bundle-source). SwingSet's only format, what
 *   Cask bundles `sourceSpec` into, and what ocap-kernel's `ocap bundle` wrote until it
 *   moved to vite.
 * - `iife`: what ocap-kernel's `ocap bundle` writes today (@metamask/kernel-utils
 *   `bundleVat`, vite/rolldown): `{ moduleFormat, code, exports, external }`, where `code`
 *   is a script declaring `var __vatExports__`.
 */
import type { VatBundle } from '../protocol/index.ts';
import { sha256Hex } from './sha256.ts';

export class BundleFormatError extends Error {
  override name = 'BundleFormatError';
}

/** Formats other tools write that Cask does not load, with what to do instead. */
const REFUSED_FORMATS: Record<string, string> = {
  nestedEvaluate:
    'an older @endo/bundle-source format that SwingSet no longer loads either; rebuild it with format "endoZipBase64"',
  getExport:
    'an older @endo/bundle-source format that SwingSet no longer loads either; rebuild it with format "endoZipBase64"',
  endoScript:
    'a script bundle for a realm without Compartments; rebuild it with format "endoZipBase64"',
  test: "SwingSet's in-process test bundles hold live functions and cannot be stored",
};

/** Bytes of base64 text (atob is a global of every host the kernel runs in). */
function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const fail = (where: string, what: string): never => {
  throw new BundleFormatError(`${where}: ${what}`);
};

function onlyFields(
  bundle: Record<string, unknown>,
  fields: readonly string[],
  where: string,
): void {
  const extra = Object.keys(bundle).filter((key) => !fields.includes(key));
  if (extra.length > 0) {
    fail(
      where,
      `a ${String(bundle.moduleFormat)} bundle has only ${fields.join(', ')}; this one also has ${extra.join(', ')}`,
    );
  }
}

/**
 * Checks that `value` is a bundle Cask loads and returns it as one; the error says what
 * is wrong, after `where` (e.g. `vats.alice.bundleSpec ./alice.bundle`).
 */
export function checkBundle(value: unknown, where: string): VatBundle {
  if (!isRecord(value)) return fail(where, 'not a bundle (expected a JSON object)');
  const format = value.moduleFormat;
  if (format === undefined) {
    return fail(
      where,
      'not a bundle: it has no moduleFormat (expected "endoZipBase64" or "iife")',
    );
  }
  if (format === 'endoZipBase64') {
    onlyFields(value, ['moduleFormat', 'endoZipBase64', 'endoZipBase64Sha512'], where);
    const { endoZipBase64: zip, endoZipBase64Sha512: sha } = value;
    if (typeof zip !== 'string' || zip.length === 0) {
      return fail(where, 'endoZipBase64 must be a non-empty string (the archive)');
    }
    if (typeof sha !== 'string' || !/^[0-9a-f]{128}$/u.test(sha)) {
      return fail(
        where,
        'endoZipBase64Sha512 must be 128 hex digits (the SHA-512 of the archive)',
      );
    }
    let head: Uint8Array;
    try {
      head = decodeBase64(zip.slice(0, 8));
    } catch {
      return fail(where, 'endoZipBase64 is not base64');
    }
    // Every zip archive starts with a local file header, "PK\x03\x04".
    if (head[0] !== 0x50 || head[1] !== 0x4b || head[2] !== 3 || head[3] !== 4) {
      return fail(where, 'endoZipBase64 does not hold a zip archive');
    }
    return value as VatBundle;
  }
  if (format === 'iife') {
    onlyFields(value, ['moduleFormat', 'code', 'exports', 'external'], where);
    const { code, exports, external } = value;
    if (typeof code !== 'string' || code.length === 0) {
      return fail(where, 'code must be a non-empty string (the bundled script)');
    }
    if (!Array.isArray(exports) || !exports.every((e) => typeof e === 'string')) {
      return fail(where, 'exports must be a list of the names the bundle exports');
    }
    if (!Array.isArray(external) || !external.every((e) => typeof e === 'string')) {
      return fail(where, 'external must be a list of module names');
    }
    if (external.length > 0) {
      return fail(
        where,
        `the bundle leaves ${external.map((e) => `"${e}"`).join(', ')} out (external), and a vat has nothing to import them from; bundle them in`,
      );
    }
    if (!exports.includes('buildRootObject')) {
      return fail(
        where,
        `the bundle does not export buildRootObject (it exports ${exports.length ? exports.join(', ') : 'nothing'})`,
      );
    }
    if (!code.includes('__vatExports__')) {
      return fail(
        where,
        'code does not assign __vatExports__, as ocap-kernel bundles do',
      );
    }
    return value as VatBundle;
  }
  if (typeof format === 'string' && Object.hasOwn(REFUSED_FORMATS, format)) {
    return fail(
      where,
      `moduleFormat "${format}" is not loaded by Cask: ${REFUSED_FORMATS[format]}`,
    );
  }
  return fail(
    where,
    `unknown moduleFormat ${JSON.stringify(format)} (Cask loads "endoZipBase64" and "iife")`,
  );
}

/**
 * The id the kernel stores a bundle under: its content's hash, so that vats launched
 * from the same code share one stored copy.
 */
export function bundleIdOf(bundle: VatBundle): string {
  if (bundle.moduleFormat === 'endoZipBase64') return bundle.endoZipBase64Sha512;
  const canonical = JSON.stringify([bundle.code, bundle.exports, bundle.external]);
  return `iife-sha256-${sha256Hex(new TextEncoder().encode(canonical))}`;
}
