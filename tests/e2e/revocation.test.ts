import pg from 'pg';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer } from './harness.js';

const PG_URL = process.env.HANGAR_TEST_PG_URL;
const schemas: string[] = [];

afterAll(async () => {
  if (!PG_URL || schemas.length === 0) return;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  for (const s of schemas) await c.query(`drop schema if exists ${s} cascade`);
  await c.end();
});

async function pgEnv(): Promise<Record<string, string>> {
  const schema = `revoke_${process.pid}_${Date.now()}`;
  schemas.push(schema);
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`create schema ${schema}`);
  await c.end();
  const url = new URL(PG_URL!);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { HANGAR_DATABASE_URL: url.toString() };
}

async function api(base: string, token: string, method: string, p: string, body?: unknown) {
  const res = await fetch(base + p, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const targets = [{ name: 'sqlite', env: async () => ({}) }, ...(PG_URL ? [{ name: 'postgres', env: pgEnv }] : [])];

for (const target of targets) {
  describe(`revocation across two server processes on one ${target.name} database`, () => {
    it('takes effect on the very next request in the other process: credential, subtree, agent and API key', async () => {
      const env = await target.env();
      const dataDir = mkdtempSync(path.join(tmpdir(), 'hangar-revoke-'));
      // one after the other: this test is about revocation, not about starting at once
      const one = await startServer({ env, dataDir });
      const two = await startServer({ env, dataDir }).catch(async (err: unknown) => {
        await one.stop();
        throw err;
      });
      try {
        const admin = one.adminKey;
        const planner = (await api(one.url, admin, 'POST', '/v1/agents', { name: 'planner', owner: 'ops' })).json;
        const helper = (await api(one.url, admin, 'POST', '/v1/agents', { name: 'helper', owner: 'ops' })).json;
        const issue = async (agentId: string) =>
          (
            await api(one.url, admin, 'POST', `/v1/agents/${agentId}/credentials`, {
              actingFor: { type: 'user', id: 'alice' },
              scopes: { models: ['*'], tools: ['*'], actions: ['*'] },
              spendCapMicros: 1000,
            })
          ).json as { token: string; credential: { id: string } };

        // a credential issued by process one works in process two, and so does its delegated child
        const parent = await issue(planner.id);
        const child = (await api(two.url, parent.token, 'POST', '/v1/credentials/delegate', { agentId: helper.id, scopes: { models: ['*'], tools: [], actions: [] }, spendCapMicros: 10 })).json;
        expect((await api(two.url, parent.token, 'GET', '/v1/whoami')).status).toBe(200);
        expect((await api(one.url, child.token, 'GET', '/v1/whoami')).status).toBe(200);

        // revoked through one → refused by two on the next request, the delegated child too
        expect((await api(one.url, admin, 'DELETE', `/v1/credentials/${parent.credential.id}`)).status).toBe(200);
        for (const token of [parent.token, child.token]) {
          const res = await api(two.url, token, 'GET', '/v1/whoami');
          expect([res.status, res.json.error.code]).toEqual([401, 'credential_revoked']);
        }

        // revoking the agent through two → its credential refused by one
        const other = await issue(helper.id);
        expect((await api(one.url, other.token, 'GET', '/v1/whoami')).status).toBe(200);
        expect((await api(two.url, admin, 'DELETE', `/v1/agents/${helper.id}`)).status).toBe(200);
        const refused = await api(one.url, other.token, 'GET', '/v1/whoami');
        expect([refused.status, refused.json.error.code]).toEqual([401, 'credential_revoked']);

        // an API key both processes have cached, revoked through one → refused by two on the next request
        const key = (await api(one.url, admin, 'POST', '/v1/keys', { name: 'worker', role: 'member' })).json;
        expect((await api(two.url, key.key, 'GET', '/v1/whoami')).status).toBe(200);
        expect((await api(one.url, key.key, 'GET', '/v1/whoami')).status).toBe(200);
        expect((await api(one.url, admin, 'DELETE', `/v1/keys/${key.id}`)).status).toBe(200);
        const gone = await api(two.url, key.key, 'GET', '/v1/whoami');
        expect([gone.status, gone.json.error.code]).toEqual([401, 'key_revoked']);
      } finally {
        await Promise.all([one.stop({ keepData: true }), two.stop()]);
      }
    }, 90_000);
  });
}
