import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createClient } from '@hangar/sdk';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, createTestApp, type TestApp } from '../../packages/server/src/test-app.js';
import { startServer, type TestServer } from './harness.js';

const HANGAR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../packages/cli/bin/hangar.js');

async function hangar(args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [HANGAR, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('hangar audit', () => {
  let server: TestServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    server = await startServer();
    env = { HANGAR_URL: server.url, HANGAR_API_KEY: server.adminKey };
    const client = createClient({ baseUrl: server.url, apiKey: server.adminKey });
    await client.journal.append('notes', { events: [1, 2, 3].map((n) => ({ type: 'note.added', payload: { n } })) });
    await client.agents.create({ name: 'auditor', owner: 'sec' });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('exports JSON Lines with filters, and verify finds a row changed directly in the database', async () => {
    const all = await hangar(['audit', 'export'], env);
    expect(all.code).toBe(0);
    const lines = all.stdout.trim().split('\n').map((l) => JSON.parse(l) as { stream: string; type: string; seq: number });
    expect(lines.map((e) => e.type)).toEqual(expect.arrayContaining(['key.created', 'note.added', 'agent.created']));
    const notes = await hangar(['audit', 'export', '--stream', 'notes', '--type', 'note.'], env);
    expect(notes.stdout.trim().split('\n').map((l) => JSON.parse(l).seq)).toEqual([1, 2, 3]);
    expect((await hangar(['audit', 'export', '--since', '2999-01-01T00:00:00Z'], env)).stdout).toBe('');

    const ok = await hangar(['audit', 'verify'], env);
    expect([ok.code, ok.stdout]).toEqual([0, expect.stringMatching(/^OK: \d+ events in \d+ streams/)]);

    // someone with access to the database file rewrites history
    const db = new SQLite(path.join(server.dataDir, 'hangar.db'));
    db.prepare(`update journal_events set payload = ? where stream = 'notes' and seq = 2`).run(JSON.stringify({ n: 200 }));
    db.close();

    const broken = await hangar(['audit', 'verify'], env);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('notes: first broken at seq 2 (payload_mismatch)');
    expect(broken.stderr).toContain('does not verify');
    const json = await hangar(['audit', 'verify', '--json'], env);
    expect(JSON.parse(json.stdout).broken).toEqual([{ stream: 'notes', seq: 2, reason: 'payload_mismatch' }]);
  }, 60_000);
});

describe('hangar approvals', () => {
  let t: TestApp;
  let http: Awaited<ReturnType<TestApp['listen']>>;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await createTestApp();
    http = await t.listen();
    env = { HANGAR_URL: http.url, HANGAR_API_KEY: ADMIN_KEY };
    await t.request('POST', '/v1/policies', { body: { name: 'pay', text: '@effect("require_approval")\npermit(principal, action == Action::"payment.create", resource);' } });
  });
  afterAll(async () => {
    await http.close();
    await t.close();
  });

  async function requestApproval(payee: string): Promise<string> {
    const action = { kind: 'payment.create' as const, resource: payee, projectId: 'proj_default', args: { amount: 42 }, maxCostMicros: 42_000_000, actor: { principals: [{ type: 'agent' as const, id: 'agt_buyer' }] } };
    return t.actions.run(action, async () => ({ value: '', costMicros: 0 })).catch((e: { details: { approvalId: string } }) => e.details.approvalId);
  }

  it('lists pending requests and approves or denies them', async () => {
    const first = await requestApproval('acme');
    const second = await requestApproval('globex');
    const table = await hangar(['approvals', 'list'], env);
    expect(table.stdout).toMatch(/ID\s+STATUS\s+ACTION\s+WHO/);
    expect(table.stdout).toContain('payment.create acme');
    expect(table.stdout).toContain('42 USD');
    const listed = JSON.parse((await hangar(['approvals', 'list', '--json'], env)).stdout) as Array<{ id: string }>;
    expect(listed.map((a) => a.id).sort()).toEqual([first, second].sort());

    const approved = await hangar(['approvals', 'approve', first, '--note', 'known vendor'], env);
    expect([approved.code, approved.stdout]).toEqual([0, expect.stringContaining(`Approved ${first}: payment.create acme for agent:agt_buyer.`)]);
    expect((await hangar(['approvals', 'deny', second], env)).stdout).toContain(`Denied ${second}`);
    expect(JSON.parse((await hangar(['approvals', 'list', '--json'], env)).stdout)).toEqual([]);
    const decided = JSON.parse((await hangar(['approvals', 'list', '--status', 'all', '--json'], env)).stdout) as Array<{ id: string; status: string; note: string | null }>;
    expect(decided.find((a) => a.id === first)).toMatchObject({ status: 'approved', note: 'known vendor' });

    const again = await hangar(['approvals', 'approve', first], env);
    expect([again.code, again.stderr]).toEqual([1, expect.stringContaining('conflict')]);
  }, 60_000);
});
