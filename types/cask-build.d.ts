/**
 * Set by vite.config.ts when the extension is built: true when the build ran with
 * CASK_CHECK_STATE=1, which turns on the kernel's state check (docs/store.md) in the
 * service worker, as the variable does in the Node host.
 */
declare const __CASK_CHECK_STATE__: boolean;
