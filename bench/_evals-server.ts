// Child process of evals.bench.ts: a Hangar server (SQLite in a temp dir) that stores the Hangar side's
// experiment and trial spans. Prints its URL.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../packages/server/src/config.js';
import { startServer } from '../packages/server/src/serve.js';

const adminKey = process.argv[2]!;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hangar-bench-evals-'));
const server = await startServer(
  loadConfig({ ...process.env, HANGAR_LOG_LEVEL: process.env.HANGAR_LOG_LEVEL ?? 'warn' }, { port: 0, dataDir, adminKey, webDir: null }),
);
console.log(`HANGAR ${server.url}`);
process.on('SIGTERM', () => {
  void server.close().then(() => {
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  });
});
