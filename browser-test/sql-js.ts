/**
 * 'sql.js' for tests in the browser (vitest.browser.config.ts aliases the bare specifier
 * here): the browser build, as the extension loads it, told where its wasm is. Left to
 * itself, emscripten looks for the wasm beside the script, and under Vite the script is a
 * pre-bundled copy in node_modules/.vite, where no wasm is served.
 */
import type { SqlJsConfig, SqlJsStatic } from 'sql.js';
import initSqlJsBrowser from 'sql.js/dist/sql-wasm-browser.js';
import wasmUrl from 'sql.js/dist/sql-wasm-browser.wasm?url';

export default function initSqlJs(config: SqlJsConfig = {}): Promise<SqlJsStatic> {
  return initSqlJsBrowser({ locateFile: () => wasmUrl, ...config });
}
