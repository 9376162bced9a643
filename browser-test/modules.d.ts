// Modules that only the browser test build resolves (see browser-test/sql-js.ts).

declare module 'sql.js/dist/sql-wasm-browser.js' {
  import initSqlJs from 'sql.js';
  export default initSqlJs;
}

/** Vite serves the file and gives its URL. */
declare module '*?url' {
  const url: string;
  export default url;
}
