/**
 * Keeps docs/ true to the code: the schema page describes exactly the schema's tables and
 * columns, the README's example cluster runs and prints what the README says, and every
 * example in docs/ marked with the file it comes from is in that file, which a test runs.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import initSqlJs from 'sql.js';
import { describe, expect, it } from 'vitest';
import { KernelStore, TABLES } from '../kernel/store/index.ts';
import { main } from '../node/cli/index.ts';

const root = resolve(import.meta.dirname, '..');

describe('docs/store.md', () => {
  it('describes every table and column of the schema, and no others', async () => {
    const doc = await readFile(join(root, 'docs/store.md'), 'utf8');
    const store = KernelStore.open(await initSqlJs());
    const documented = [...doc.matchAll(/^### `(\w+)`$/gmu)].map((m) => m[1]);
    const tables = store
      .all("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .map((r) => String(r[0]));
    expect([...documented].sort()).toEqual(tables);
    for (const table of tables) {
      const section = doc.split(`### \`${table}\``)[1]?.split('### ')[0] ?? '';
      const columns = store.all(
        `SELECT name FROM pragma_table_info('${table}') ORDER BY cid`,
      );
      for (const [column] of columns) {
        expect(section, `docs/store.md: ${table}.${String(column)}`).toContain(
          `\`${String(column)}\``,
        );
      }
      // The store's write path knows the same columns as the database.
      expect(TABLES[table as keyof typeof TABLES].columns).toEqual(
        columns.map((c) => c[0]),
      );
    }
  });
});

describe('README', () => {
  it('runs the example cluster and prints what the README says it prints', async () => {
    const readme = await readFile(join(root, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```(js|json)\n([\s\S]*?)```/gu)];
    const files = new Map<string, string>();
    for (const [, lang, body = ''] of blocks) {
      const name = lang === 'json' ? 'cluster.json' : /^\/\/ (\S+\.js)/u.exec(body)?.[1];
      if (name) files.set(name, body);
    }
    expect([...files.keys()].sort()).toEqual([
      'bootstrap.js',
      'cluster.json',
      'counter.js',
    ]);
    const expected = /`npx cask run cluster\.json` prints `([^`]+)`/u.exec(readme)?.[1];
    // Inside the repository, so the vats' imports resolve to its node_modules.
    const dir = await mkdtemp(join(root, 'test/.readme-'));
    try {
      for (const [name, body] of files) await writeFile(join(dir, name), body);
      const out: string[] = [];
      const code = await main(['run', join(dir, 'cluster.json')], {
        stdout: (line) => out.push(line),
        stderr: () => undefined,
      });
      expect(code).toBe(0);
      expect(out.at(-1)).toBe(expected);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** The test files of the repository, whose sources name the files they run. */
async function testSources(): Promise<string> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const files = entries
    .filter(
      (e) =>
        e.isFile() &&
        /\.(test|spec)\.ts$/u.test(e.name) &&
        !e.parentPath.includes('node_modules'),
    )
    .map((e) => join(e.parentPath, e.name));
  return (await Promise.all(files.map((f) => readFile(f, 'utf8')))).join('\n');
}

describe('examples in docs/', () => {
  it('every ```js file=PATH block appears verbatim in PATH, and a test runs PATH', async () => {
    const docs = (await readdir(join(root, 'docs'))).filter((f) => f.endsWith('.md'));
    const tests = await testSources();
    let examples = 0;
    for (const doc of docs) {
      const text = await readFile(join(root, 'docs', doc), 'utf8');
      for (const [, path = '', body = ''] of text.matchAll(
        /^```js file=(\S+)\n([\s\S]*?)^```$/gmu,
      )) {
        examples += 1;
        const source = await readFile(join(root, path), 'utf8').catch(() => undefined);
        expect(source, `docs/${doc}: ${path} does not exist`).toBeDefined();
        expect(
          source?.includes(body),
          `docs/${doc}: this example is not in ${path} as it is written:\n${body}`,
        ).toBe(true);
        const name = path.split('/').at(-1) as string;
        expect(tests, `docs/${doc}: no test names ${name}, so none runs it`).toContain(
          name,
        );
      }
    }
    // docs/timers.md has some; the check must not pass for want of examples.
    expect(examples).toBeGreaterThan(0);
  });
});
