/**
 * Bundles vat sources, in a process of its own: Endo's bundler runs under SES (it needs
 * SES's globals), and the Vite process that builds the extension must not be locked
 * down. Usage: node --import tsx extension/build/bundle-vats.ts OUT_DIR FILE…
 * Writes OUT_DIR/<name>.bundle.json for each vats/<name>.js.
 */
import '../../vat-supervisor/lockdown.ts';
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { bundleVatSource } from '../../node/bundles/index.ts';

const [outDir, ...files] = process.argv.slice(2);
if (outDir === undefined) throw new Error('usage: bundle-vats.ts OUT_DIR FILE…');
for (const file of files) {
  const bundle = await bundleVatSource(file);
  await writeFile(
    join(outDir, basename(file).replace(/\.js$/u, '.bundle.json')),
    JSON.stringify(bundle),
  );
}
