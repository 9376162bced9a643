/**
 * The new code `cask upgrade` names by SOURCE, made into a bundle here, in the CLI
 * process (so a daemon is sent a bundle and never reads the client's files): a vat source
 * is bundled as a cluster file's `sourceSpec` is, a `.json` file read and checked as a
 * `bundleSpec` is. Every failure is one line naming SOURCE.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { checkBundle, type VatBundle } from '../../kernel/index.ts';
import { bundleVatSource } from '../bundles/index.ts';
import { CommandFailed } from './io.ts';

const SOURCES = ['.js', '.mjs', '.ts', '.mts'];

export async function readVatCode(path: string): Promise<VatBundle> {
  const ext = extname(path).toLowerCase();
  if (!SOURCES.includes(ext) && ext !== '.json') {
    throw new CommandFailed(
      `${path} is neither a vat source (${SOURCES.join(', ')}) nor a bundle file (.json)`,
    );
  }
  const found = await stat(path).catch((error: NodeJS.ErrnoException) => error);
  if (found instanceof Error) {
    throw new CommandFailed(
      found.code === 'ENOENT'
        ? `${path} does not exist`
        : `cannot read ${path}: ${found.message}`,
    );
  }
  if (!found.isFile()) throw new CommandFailed(`${path} is not a file`);
  if (ext === '.json') return readBundleFile(path);
  try {
    return await bundleVatSource(path);
  } catch (error) {
    throw new CommandFailed(`the vat source ${path} does not build: ${oneLine(error)}`);
  }
}

async function readBundleFile(path: string): Promise<VatBundle> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CommandFailed(`cannot read ${path}: ${oneLine(error)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CommandFailed(`the bundle file ${path} is not JSON: ${oneLine(error)}`);
  }
  try {
    return checkBundle(parsed, `the bundle file ${path}`);
  } catch (error) {
    throw new CommandFailed(oneLine(error));
  }
}

const oneLine = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/gu, ' ');
