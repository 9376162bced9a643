// lock.test.ts's child: opens a data directory when told to, says whether it got it, and
// holds it until told to exit (or until its stdin closes, if its parent goes away).
//   node --import tsx lock-holder.mjs DIR [--then-end]
// stdin lines: "go" opens DIR, "exit" closes it and exits. stdout lines: "ready", then
// "locked PID" or "refused NAME MESSAGE". With --then-end it opens DIR at once, never
// closes it and lets the process end by itself (the lock must not keep it alive).
import { createInterface } from 'node:readline';

const { openFileStorage } = await import('./index.ts');

const [dir, mode] = process.argv.slice(2);
const say = (line) => process.stdout.write(`${line}\n`);

async function open() {
  try {
    const storage = await openFileStorage(dir);
    say(`locked ${process.pid}`);
    return storage;
  } catch (error) {
    say(`refused ${error.name} ${error.message}`);
    return undefined;
  }
}

if (mode === '--then-end') {
  await open();
} else {
  const lines = createInterface({ input: process.stdin });
  let storage;
  say('ready');
  for await (const line of lines) {
    if (line === 'go') storage = await open();
    else if (line === 'exit') break;
  }
  lines.close();
  process.stdin.destroy();
  await storage?.close();
}
