import { createClient } from '@hangar/sdk';
import pg from 'pg';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer } from './harness.js';

const PG_URL = process.env.HANGAR_TEST_PG_URL;
let schema: string | null = null;

afterAll(async () => {
  if (!PG_URL || !schema) return;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`drop schema if exists ${schema} cascade`);
  await c.end();
});

async function pgEnv(): Promise<Record<string, string>> {
  schema = `multi_${process.pid}_${Date.now()}`;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`create schema ${schema}`);
  await c.end();
  const url = new URL(PG_URL!);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { HANGAR_DATABASE_URL: url.toString() };
}

const targets = [{ name: 'sqlite', env: async () => ({}) }, ...(PG_URL ? [{ name: 'postgres', env: pgEnv }] : [])];

for (const target of targets) {
  describe(`several processes on one ${target.name} database`, () => {
    it('start at once (migrations and bootstrap run once) and share one journal', async () => {
      const env = await target.env();
      const dataDir = mkdtempSync(path.join(tmpdir(), 'hangar-multi-'));
      const servers = await Promise.all([1, 2, 3].map(() => startServer({ env, dataDir })));
      try {
        const clients = servers.map((s) => createClient({ baseUrl: s.url, apiKey: s.adminKey }));
        const { keys } = await clients[0]!.keys.list();
        expect(keys.filter((k) => k.role === 'admin')).toHaveLength(1);
        // appends through all three processes interleave into one gap-free chain
        await Promise.all(
          clients.flatMap((c, i) =>
            Array.from({ length: 10 }, (_, j) => c.journal.append('shared', { events: [{ type: 'e', payload: { i, j } }] })),
          ),
        );
        const page = await clients[2]!.journal.read('shared', { limit: 100 });
        expect(page.events.map((e) => e.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
        expect((await clients[1]!.journal.verify()).ok).toBe(true);
      } finally {
        await Promise.all(servers.map((s, i) => s.stop({ keepData: i < 2 })));
      }
    }, 90_000);
  });
}
