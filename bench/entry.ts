// Lockdown first (the kernel runs under SES), then the benchmark named on the command line.
import '../vat-supervisor/lockdown.ts';

const [, , script] = process.argv;
if (!script) throw new Error('usage: entry.ts BENCH.ts [options]');
await import(script);
