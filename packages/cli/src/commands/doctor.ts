import { accessSync, constants, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { Command } from 'commander';
import { loadConfig, openDatabase, pendingMigrations } from '@hangar/server';
import { printJson } from '../output.js';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

const MIN_NODE = [20, 19];

async function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

export function doctorCommand(): Command {
  return new Command('doctor')
    .description('Check that this machine can run Hangar')
    .option('-p, --port <port>', 'port to check (HANGAR_PORT, default 7070)')
    .option('-d, --data-dir <dir>', 'data directory (HANGAR_DATA_DIR, default ./.hangar)')
    .option('--json', 'print JSON')
    .action(async (opts: { port?: string; dataDir?: string; json?: boolean }) => {
      const config = loadConfig(process.env, {
        port: opts.port === undefined ? undefined : Number(opts.port),
        dataDir: opts.dataDir,
      });
      const checks: Check[] = [];
      const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
      checks.push({
        name: 'node',
        ok: major > MIN_NODE[0]! || (major === MIN_NODE[0] && minor >= MIN_NODE[1]!),
        detail: `Node ${process.versions.node} (needs ${MIN_NODE.join('.')} or later)`,
      });

      try {
        mkdirSync(config.dataDir, { recursive: true });
        accessSync(config.dataDir, constants.W_OK);
        checks.push({ name: 'data-dir', ok: true, detail: `${config.dataDir} is writable` });
      } catch (err) {
        checks.push({ name: 'data-dir', ok: false, detail: `${config.dataDir}: ${(err as Error).message}` });
      }

      try {
        const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, migrate: false });
        try {
          checks.push({ name: 'database', ok: true, detail: `${database.describe} is reachable` });
          const pending = await pendingMigrations(database.db, database.types);
          checks.push({
            name: 'migrations',
            ok: true,
            detail: pending.length === 0 ? 'schema is current' : `${pending.length} to apply at next start: ${pending.join(', ')}`,
          });
        } finally {
          await database.close();
        }
      } catch (err) {
        checks.push({ name: 'database', ok: false, detail: `cannot open the database: ${(err as Error).message}` });
      }

      const free = await portFree(config.port, config.host);
      checks.push({
        name: 'port',
        ok: free,
        detail: free ? `${config.host}:${config.port} is free` : `${config.host}:${config.port} is in use (is Hangar already running? or pass --port)`,
      });

      const ok = checks.every((c) => c.ok);
      if (opts.json) printJson({ ok, checks });
      else for (const c of checks) console.log(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(10)} ${c.detail}`);
      if (!ok) process.exitCode = 1;
    });
}
