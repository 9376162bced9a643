/**
 * Hardens the realm. Import this module first, before anything else, in every entry
 * point that runs vat code or the kernel: ES module evaluation order makes it run before
 * any later import.
 *
 * `errorTaming: 'unsafe'` keeps stacks on errors so that a vat's failure can be reported
 * with where it happened; vats still cannot reach anything not endowed to them.
 */
import '@endo/init/pre-remoting.js';

lockdown({
  errorTaming: 'unsafe',
  overrideTaming: 'severe',
  consoleTaming: 'unsafe',
  stackFiltering: 'verbose',
  domainTaming: 'unsafe',
});
