/**
 * Bundles vat sources, in a process of its own: Endo's bundler runs under SES (it needs
 * SES's globals), and the Vite process that builds the extension must not be locked
 * down. Usage: node --import tsx extension/build/bundle-vats.ts OUT_DIR FILE…
 * Writes OUT_DIR/<name>.bundle.json for each vats/<name>.js, and OUT_DIR/index.json
 * listing them (name, bundleSpec, bundleId): an extension cannot list its own
 * directories at run time, and the panel offers these bundles for an upgrade.
 */
import '../../vat-supervisor/lockdown.ts';
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { bundleIdOf } from '../../kernel/cluster/index.ts';
import { bundleVatSource } from '../../node/bundles/index.ts';

const [outDir, ...files] = process.argv.slice(2);
if (outDir === undefined) throw new Error('usage: bundle-vats.ts OUT_DIR FILE…');
const index: Array<{ name: string; bundleSpec: string; bundleId: string }> = [];
for (const file of files) {
  const bundle = await bundleVatSource(file);
  const name = basename(file).replace(/\.js$/u, '');
  await writeFile(join(outDir, `${name}.bundle.json`), JSON.stringify(bundle));
  index.push({
    name,
    bundleSpec: `bundles/${name}.bundle.json`,
    bundleId: bundleIdOf(bundle),
  });
}
index.sort((a, b) => a.name.localeCompare(b.name));
await writeFile(join(outDir, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
