/**
 * Cluster configs: every field of ocap-kernel's and SwingSet's configs is honoured or
 * refused by name, and a typo is named with the field it was probably meant to be.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../node/cli/index.ts';
import {
  CLUSTER_FIELDS,
  CREATION_OPTIONS,
  VAT_FIELDS,
  bundleIdOf,
  checkBundle,
  closest,
  editDistance,
  parseClusterConfig,
  resolveClusterConfig,
  vatCode,
  type VatBundle,
} from '../kernel/index.ts';
import { sha256Hex } from '../kernel/cluster/sha256.ts';
import { createHash } from 'node:crypto';

const zip: VatBundle = {
  moduleFormat: 'endoZipBase64',
  endoZipBase64: 'UEsDBAoAAAAAAA==',
  endoZipBase64Sha512: 'a'.repeat(128),
};
const one = (vat: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  bootstrap: 'main',
  vats: { main: { sourceSpec: './main.js', ...vat } },
  ...extra,
});
const parse = (value: unknown) => () => parseClusterConfig(value);

describe('unknown fields', () => {
  it('names a misspelt vat field and the field it was meant to be', () => {
    expect(
      parse({ bootstrap: 'main', vats: { main: { bundelSpec: './m.bundle' } } }),
    ).toThrow('unknown field `bundelSpec` in vats.main (did you mean `bundleSpec`?)');
  });

  it('names a misspelt top-level field', () => {
    expect(parse(one({}, { bootsrap: 'main' }))).toThrow(
      'unknown field `bootsrap` at the top level (did you mean `bootstrap`?)',
    );
    expect(parse(one({}, { forcereset: true }))).toThrow('(did you mean `forceReset`?)');
  });

  it('says nothing it cannot back up for a name far from every field', () => {
    expect(parse(one({ colour: 'red' }))).toThrow(
      /^invalid cluster config: unknown field `colour` in vats\.main; expected one of `sourceSpec`, [^(]*`network`$/u,
    );
  });

  it('names a misspelt creation option', () => {
    expect(parse(one({ creationOptions: { reapIntervl: 5 } }))).toThrow(
      'unknown creation option `reapIntervl` in vats.main.creationOptions (did you mean `reapInterval`?)',
    );
  });

  it('checks names before types, so a typo is not reported as a wrong type', () => {
    expect(
      parse({ bootstrap: 'main', vats: { main: { sourceSpec: 42, parameter: {} } } }),
    ).toThrow('unknown field `parameter` in vats.main (did you mean `parameters`?)');
  });
});

describe('fields other systems use and Cask does not', () => {
  it.each([
    [
      one({ platformConfig: { fs: {} } }),
      '`platformConfig` in vats.main is not supported by Cask: ',
    ],
    [one({}, { io: {} }), 'field `io` is not supported by Cask: '],
    [one({}, { devices: {} }), 'field `devices` is not supported by Cask: '],
    [
      one({}, { snapshotInterval: 200 }),
      'field `snapshotInterval` is not supported by Cask: ',
    ],
    [
      one({ creationOptions: { managerType: 'xs-worker' } }),
      'creation option `managerType` in vats.main.creationOptions is not supported by Cask: ',
    ],
    [
      one({ creationOptions: { critical: true } }),
      'creation option `critical` in vats.main.creationOptions is not supported by Cask: ',
    ],
    [
      one({ creationOptions: { enablePipelining: true } }),
      'creation option `enablePipelining: true` in vats.main.creationOptions is not supported by Cask: ',
    ],
    [
      one({ creationOptions: { enableSetup: true } }),
      'creation option `enableSetup: true` in vats.main.creationOptions is not supported by Cask: ',
    ],
    [
      one({ creationOptions: { useTranscript: true } }),
      'creation option `useTranscript: true` in vats.main.creationOptions is not supported by Cask: ',
    ],
  ])('refuses %j by name, with the reason', (config, message) => {
    expect(parse(config)).toThrow(message);
  });

  it('accepts an option at the value that says what Cask does anyway', () => {
    const config = parseClusterConfig(
      one({
        creationOptions: {
          enablePipelining: false,
          enableSetup: false,
          useTranscript: false,
          name: 'main',
        },
      }),
    );
    expect(config.vats.main?.creationOptions?.enablePipelining).toBe(false);
    expect(parse(one({ creationOptions: { name: 'other' } }))).toThrow(
      'a vat is named by its key in `vats` ("main")',
    );
  });

  it('gives every refused field a reason', () => {
    for (const rules of [CLUSTER_FIELDS, VAT_FIELDS, CREATION_OPTIONS]) {
      for (const [field, why] of Object.entries(rules.refused)) {
        expect(why.length, field).toBeGreaterThan(20);
        expect(rules.known).not.toContain(field);
      }
    }
  });
});

describe('fields Cask honours', () => {
  const resolve = (value: unknown) => {
    const config = parseClusterConfig(value);
    return resolveClusterConfig(
      config,
      Object.fromEntries(Object.keys(config.vats).map((v) => [v, zip])),
    );
  };

  it('passes services through as a list of names, and refuses bad ones', () => {
    expect(resolve(one({}, { services: ['timer', 'vatAdmin'] })).services).toEqual([
      'timer',
      'vatAdmin',
    ]);
    expect(resolve(one({})).services).toEqual([]);
    expect(parse(one({}, { services: 'timer' }))).toThrow(
      'invalid cluster config at services',
    );
    expect(parse(one({}, { services: ['a b'] }))).toThrow(
      'invalid cluster config at services.0',
    );
    expect(parse(one({}, { services: ['timer', 'timer'] }))).toThrow(
      '"timer" is named twice',
    );
  });

  it('passes forceReset through', () => {
    expect(resolve(one({}, { forceReset: true })).forceReset).toBe(true);
    expect(resolve(one({})).forceReset).toBeUndefined();
    expect(parse(one({}, { forceReset: 'yes' }))).toThrow(
      'invalid cluster config at forceReset',
    );
  });

  it('takes reapInterval, neverReap and defaultReapInterval to the vat', () => {
    expect(
      resolve(one({ creationOptions: { reapInterval: 7 } })).vats.main?.reapInterval,
    ).toBe(7);
    expect(
      resolve(one({ creationOptions: { reapInterval: 'never' } })).vats.main
        ?.reapInterval,
    ).toBe('never');
    expect(
      resolve(one({ creationOptions: { neverReap: true } })).vats.main?.reapInterval,
    ).toBe('never');
    expect(resolve(one({})).vats.main?.reapInterval).toBeUndefined();
    expect(resolve(one({}, { defaultReapInterval: 3 })).vats.main?.reapInterval).toBe(3);
    expect(
      resolve(one({ creationOptions: { reapInterval: 9 } }, { defaultReapInterval: 3 }))
        .vats.main?.reapInterval,
    ).toBe(9);
    expect(parse(one({ creationOptions: { reapInterval: 0 } }))).toThrow(
      'invalid cluster config at vats.main.creationOptions.reapInterval: a reap interval is a whole number',
    );
    expect(parse(one({ creationOptions: { neverReap: true, reapInterval: 5 } }))).toThrow(
      'neverReap is true but reapInterval is 5',
    );
    expect(parse(one({}, { defaultReapInterval: 'sometimes' }))).toThrow(
      'at defaultReapInterval',
    );
  });

  it("follows a bundleName into the config's bundles", () => {
    const config = parseClusterConfig({
      bootstrap: 'a',
      bundles: { shared: { bundleSpec: './shared.bundle' } },
      vats: { a: { bundleName: 'shared' }, b: { bundleName: 'shipped' } },
    });
    expect(vatCode(config, 'a')).toEqual({
      kind: 'bundleSpec',
      spec: './shared.bundle',
      field: 'vats.a.bundleName → bundles.shared.bundleSpec',
    });
    expect(vatCode(config, 'b')).toEqual({
      kind: 'bundleName',
      name: 'shipped',
      field: 'vats.b.bundleName',
    });
    expect(
      parse({
        bootstrap: 'a',
        bundles: { x: { bundleSpec: 'a', sourceSpec: 'b' } },
        vats: { a: { bundleName: 'x' } },
      }),
    ).toThrow(
      'invalid cluster config at bundles.x: give exactly one of sourceSpec, bundleSpec or bundle',
    );
    expect(
      parse({
        bootstrap: 'a',
        bundles: { x: { bundelSpec: 'a' } },
        vats: { a: { bundleName: 'x' } },
      }),
    ).toThrow('unknown field `bundelSpec` in bundles.x (did you mean `bundleSpec`?)');
  });

  it('wants exactly one source of code per vat', () => {
    expect(
      parse({ bootstrap: 'a', vats: { a: { sourceSpec: 'x', bundleName: 'y' } } }),
    ).toThrow(
      'invalid cluster config at vats.a: give exactly one of sourceSpec, bundleSpec or bundle, or a bundleName (got sourceSpec, bundleName)',
    );
  });
});

describe('bundle formats', () => {
  const iife = {
    moduleFormat: 'iife',
    code: 'var __vatExports__ = {};',
    exports: ['buildRootObject'],
    external: [],
  };

  it("accepts endoZipBase64 and ocap-kernel's iife bundles inline", () => {
    expect(
      parseClusterConfig({ bootstrap: 'main', vats: { main: { bundle: zip } } }).vats.main
        ?.bundle,
    ).toEqual(zip);
    expect(
      parseClusterConfig({ bootstrap: 'm', vats: { m: { bundle: iife } } }).vats.m
        ?.bundle,
    ).toEqual(iife);
  });

  it.each([
    [
      { ...iife, exports: ['start'] },
      'the bundle does not export buildRootObject (it exports start)',
    ],
    [
      { ...iife, external: ['@endo/far'] },
      'the bundle leaves "@endo/far" out (external)',
    ],
    [{ ...iife, code: '' }, 'code must be a non-empty string'],
    [
      { ...zip, endoZipBase64: 'aGVsbG8gd29ybGQ=' },
      'endoZipBase64 does not hold a zip archive',
    ],
    [
      { ...zip, endoZipBase64Sha512: 'abc' },
      'endoZipBase64Sha512 must be 128 hex digits',
    ],
    [
      { moduleFormat: 'nestedEvaluate', source: '' },
      'moduleFormat "nestedEvaluate" is not loaded by Cask',
    ],
    [{ moduleFormat: 'zip' }, 'unknown moduleFormat "zip"'],
    [{ code: 'x' }, 'not a bundle: it has no moduleFormat'],
  ])('refuses a bad bundle, naming the vat and what is wrong: %j', (bundle, message) => {
    expect(parse({ bootstrap: 'm', vats: { m: { bundle } } })).toThrow(
      `invalid cluster config at vats.m.bundle: ${message}`,
    );
    expect(() => checkBundle(bundle, 'here')).toThrow(message);
  });

  it('names an iife bundle by the SHA-256 of its content', () => {
    const a = bundleIdOf(iife as VatBundle);
    expect(a).toMatch(/^iife-sha256-[0-9a-f]{64}$/u);
    expect(bundleIdOf({ ...iife, code: `${iife.code} ` } as VatBundle)).not.toBe(a);
    expect(bundleIdOf(zip)).toBe(zip.endoZipBase64Sha512);
  });
});

describe('the helpers', () => {
  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('bundelSpec', 'bundleSpec')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(closest('BundleSpec', ['bundleSpec'])).toBe('bundleSpec');
    expect(closest('xyz', ['bundleSpec'])).toBeUndefined();
  });

  it('computes SHA-256 as node:crypto does', () => {
    for (const length of [0, 1, 55, 56, 63, 64, 65, 1000, 100_000]) {
      const bytes = new Uint8Array(length).map((_, i) => (i * 31 + length) & 0xff);
      expect(sha256Hex(bytes)).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
  });
});

describe('forceReset in cask run', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  async function cask(...argv: string[]) {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const code = await main(argv, {
      stdout: (l) => stdout.push(l),
      stderr: (l) => stderr.push(l),
    });
    return { code, last: stdout.at(-1), stderr: stderr.join('\n') };
  }

  it('discards the kernel a data directory holds, says so, and launches afresh', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cask-reset-'));
    dirs.push(dir);
    const counter = resolve(import.meta.dirname, '../vats/counter.js');
    const config = (forceReset: boolean) => {
      const path = join(dir, forceReset ? 'reset.json' : 'keep.json');
      return writeFile(
        path,
        JSON.stringify({
          bootstrap: 'counter',
          ...(forceReset ? { forceReset } : {}),
          vats: { counter: { sourceSpec: counter, parameters: { start: 5 } } },
        }),
      ).then(() => path);
    };
    const data = join(dir, 'data');
    const keep = await config(false);
    const reset = await config(true);

    expect((await cask('run', keep, '--data', data)).last).toBe('5');
    expect((await cask('send', '--data', data, 'counter', 'increment')).last).toBe('6');
    // Without forceReset the kernel is resumed: bootstrap does not run again.
    const resumed = await cask('run', keep, '--data', data);
    expect(resumed.stderr).toContain('bootstrap is not called again');
    expect((await cask('send', '--data', data, 'counter', 'getCount')).last).toBe('6');

    const fresh = await cask('run', reset, '--data', data);
    expect(fresh.code).toBe(0);
    expect(fresh.stderr).toMatch(
      /cask: forceReset in .*reset\.json: discarded the kernel in .*data \(1 vat\(s\): counter, /u,
    );
    expect(fresh.last).toBe('5');
    expect((await cask('send', '--data', data, 'counter', 'increment')).last).toBe('6');
  });

  it('does nothing to a directory with no kernel yet', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cask-reset-'));
    dirs.push(dir);
    const path = join(dir, 'c.json');
    await writeFile(
      path,
      JSON.stringify({
        bootstrap: 'counter',
        forceReset: true,
        vats: {
          counter: { sourceSpec: resolve(import.meta.dirname, '../vats/counter.js') },
        },
      }),
    );
    const first = await cask('run', path, '--data', join(dir, 'data'));
    expect(first.last).toBe('0');
    expect(first.stderr).not.toContain('discarded');
  });
});

describe('docs/vats.md', () => {
  it('lists every cluster field, vat field and creation option', async () => {
    const doc = await readFile(resolve(import.meta.dirname, '../docs/vats.md'), 'utf8');
    const section = doc.split('## Cluster files')[1] ?? '';
    for (const rules of [CLUSTER_FIELDS, VAT_FIELDS, CREATION_OPTIONS]) {
      for (const field of [...rules.known, ...Object.keys(rules.refused)]) {
        expect(section, field).toContain(`\`${field}\``);
      }
    }
  });
});
