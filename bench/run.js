#!/usr/bin/env node
// Runs one benchmark: `npm run bench -- <name> [args…]` runs bench/<name>.bench.ts through tsx, in a
// process of its own so that one benchmark's JIT and heap state never colours another's numbers.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const SUFFIX = '.bench.ts';

const available = readdirSync(benchDir)
  .filter((f) => f.endsWith(SUFFIX))
  .map((f) => f.slice(0, -SUFFIX.length))
  .sort();

const [name, ...args] = process.argv.slice(2);

if (!name || !available.includes(name)) {
  const why = name ? `unknown benchmark "${name}"` : 'no benchmark named';
  console.error(`bench: ${why}.`);
  console.error('usage: npm run bench -- <name> [args…]');
  console.error(
    available.length ? `available: ${available.join(', ')}` : `no *${SUFFIX} files in ${benchDir}`,
  );
  process.exit(1);
}

// Resolved from here, so the runner works from any working directory.
const tsx = import.meta.resolve('tsx');
const child = spawn(process.execPath, ['--import', tsx, path.join(benchDir, name + SUFFIX), ...args], {
  stdio: 'inherit',
});

// Pass signals on (Ctrl-C also reaches the child directly, through the terminal's process group) and
// let the child decide when to exit, so its temporary databases are cleaned up.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));

child.on('error', (error) => {
  console.error(`bench: could not start ${name}: ${error.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else {
    process.exit(code ?? 1);
  }
});
