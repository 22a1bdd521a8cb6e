import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test-app.js';

/**
 * A key of project B can never read or write project A. Every documented /v1 operation has a case
 * here, called with B's key against A's ids and names; a new route without a case fails the last test.
 */
describe('project isolation, route by route', () => {
  let t: TestApp;
  let keyB: string;
  let memberKeyA: { id: string };
  let blobShaA: string;
  let agentA: { id: string };
  let credentialA: { token: string; credential: { id: string } };
  let policyA: { id: string };
  let approvalA: string;

  const snapshotA = async () => {
    const db = t.database.db;
    const keys = await db.selectFrom('api_keys').selectAll().where('project_id', '=', 'proj_default').orderBy('id').execute();
    const events = await db.selectFrom('journal_events').selectAll().where('project_id', '=', 'proj_default').orderBy('stream').orderBy('seq').execute();
    const project = await db.selectFrom('projects').selectAll().where('id', '=', 'proj_default').executeTakeFirst();
    const agents = await db.selectFrom('agents').selectAll().where('project_id', '=', 'proj_default').orderBy('id').execute();
    const credentials = await db.selectFrom('credentials').selectAll().where('project_id', '=', 'proj_default').orderBy('id').execute();
    const policies = await db.selectFrom('policies').selectAll().where('project_id', '=', 'proj_default').orderBy('id').execute();
    const approvals = await db.selectFrom('approvals').selectAll().where('project_id', '=', 'proj_default').orderBy('id').execute();
    const webhooks = await db.selectFrom('approval_webhooks').selectAll().where('project_id', '=', 'proj_default').execute();
    return JSON.stringify({ keys, events, project, agents, credentials, policies, approvals, webhooks });
  };

  beforeAll(async () => {
    t = await createTestApp();
    const created = await t.request('POST', '/v1/projects', { body: { name: 'B' } });
    expect(created.status).toBe(201);
    keyB = created.json.key.key;
    memberKeyA = (await t.request('POST', '/v1/keys', { body: { name: 'a-member', role: 'member' } })).json;
    const appended = await t.request('POST', '/v1/streams/secret/events', {
      body: { events: [{ type: 'note', payload: { text: 'A only '.repeat(1000) } }] },
    });
    expect(appended.status).toBe(201);
    blobShaA = (await t.request('GET', '/v1/streams/secret/events')).json.events[0].payloadSha256;
    agentA = (await t.request('POST', '/v1/agents', { body: { name: 'a-agent', owner: 'a' } })).json;
    credentialA = (
      await t.request('POST', `/v1/agents/${agentA.id}/credentials`, {
        body: { actingFor: { type: 'user', id: 'alice' }, scopes: { models: ['*'], tools: ['*'], actions: ['*'] }, spendCapMicros: 100 },
      })
    ).json;
    policyA = (await t.request('POST', '/v1/policies', { body: { name: 'tools', text: 'permit(principal, action == Action::"tool.call", resource);' } })).json;
    await t.request('POST', '/v1/policies', { body: { name: 'pay', text: '@effect("require_approval")\npermit(principal, action == Action::"payment.create", resource);' } });
    await t.request('PUT', '/v1/approvals/webhook', { body: { url: 'http://127.0.0.1:9/a-only' } });
    const payment = { kind: 'payment.create' as const, resource: 'acme', projectId: 'proj_default', args: { amount: 1 }, actor: { principals: [{ type: 'key' as const, id: 'key_a' }] } };
    approvalA = await t.actions.run(payment, async () => ({ value: '', costMicros: 0 })).catch((e: { details: { approvalId: string } }) => e.details.approvalId);
    expect(approvalA).toMatch(/^apr_/);
  });
  afterAll(async () => {
    await t.close();
  });

  type Case = (before: string) => Promise<void>;
  const asB = (method: string, path: string, body?: unknown) => t.request(method, path, { key: keyB, body });
  const unchanged = async (before: string) => expect(await snapshotA()).toBe(before);
  const notFound = async (method: string, path: string, body?: unknown) => {
    const res = await asB(method, path, body);
    expect([res.status, res.json.error.code]).toEqual([404, 'not_found']);
  };
  const credentialB = async () => {
    const agentB = (await asB('POST', '/v1/agents', { name: `b-${Math.random().toString(36).slice(2, 8)}`, owner: 'b' })).json;
    const body = { actingFor: { type: 'user', id: 'bob' }, scopes: { models: ['*'], tools: ['*'], actions: ['*'] }, spendCapMicros: 100 };
    return (await asB('POST', `/v1/agents/${agentB.id}/credentials`, body)).json.token as string;
  };

  const cases: Record<string, Case> = {
    'GET /v1/whoami': async () => {
      const res = await asB('GET', '/v1/whoami');
      expect(res.json.project.id).not.toBe('proj_default');
    },
    'GET /v1/projects': async () => {
      const res = await asB('GET', '/v1/projects');
      expect(res.json.projects.map((p: { id: string }) => p.id)).not.toContain('proj_default');
    },
    'POST /v1/projects': async (before) => {
      expect((await asB('POST', '/v1/projects', { name: 'C' })).status).toBe(201);
      await unchanged(before);
    },
    'PATCH /v1/project': async (before) => {
      expect((await asB('PATCH', '/v1/project', { name: 'renamed', retentionDays: 1 })).status).toBe(200);
      await unchanged(before);
    },
    'GET /v1/keys': async () => {
      const ids = (await asB('GET', '/v1/keys')).json.keys.map((k: { id: string }) => k.id);
      expect(ids).not.toContain(memberKeyA.id);
      expect(ids).toHaveLength(1);
    },
    'POST /v1/keys': async (before) => {
      expect((await asB('POST', '/v1/keys', { name: 'b-bot' })).status).toBe(201);
      await unchanged(before);
    },
    'DELETE /v1/keys/{id}': async (before) => {
      const res = await asB('DELETE', `/v1/keys/${memberKeyA.id}`);
      expect([res.status, res.json.error.code]).toEqual([404, 'not_found']);
      await unchanged(before);
    },
    'GET /v1/streams/{stream}/events': async () => {
      expect((await asB('GET', '/v1/streams/secret/events')).json.events).toEqual([]);
    },
    'POST /v1/streams/{stream}/events': async (before) => {
      const res = await asB('POST', '/v1/streams/secret/events', { events: [{ type: 'x' }], expectedSeq: 1 });
      expect(res.json.error.code).toBe('seq_conflict'); // B's stream "secret" is empty: A's head is invisible
      expect((await asB('POST', '/v1/streams/secret/events', { events: [{ type: 'x' }] })).json.events[0].seq).toBe(1);
      await unchanged(before);
    },
    'GET /v1/streams': async () => {
      const projectB = (await asB('GET', '/v1/whoami')).json.project.id as string;
      const listed = (await asB('GET', '/v1/streams')).json.streams;
      const own = await t.database.db
        .selectFrom('journal_events')
        .select(['stream', (eb) => eb.fn.max('seq').as('headSeq')])
        .where('project_id', '=', projectB)
        .groupBy('stream')
        .orderBy('stream')
        .execute();
      expect(listed.map((s: { stream: string; headSeq: number }) => [s.stream, s.headSeq])).toEqual(
        own.map((s) => [s.stream, Number(s.headSeq)]),
      );
    },
    'POST /v1/journal/verify': async () => {
      const b = (await asB('POST', '/v1/journal/verify', { stream: 'secret' })).json;
      expect(b.events).toBe(1); // only B's own event in its "secret" stream
    },
    'POST /v1/journal/retention': async (before) => {
      await asB('POST', '/v1/journal/retention');
      await unchanged(before);
    },
    'GET /v1/blobs/{sha256}': async () => {
      const res = await asB('GET', `/v1/blobs/${blobShaA}`);
      expect([res.status, res.json.error.code]).toEqual([404, 'not_found']);
      expect((await t.request('GET', `/v1/blobs/${blobShaA}`)).status).toBe(200);
    },
    'POST /v1/agents': async (before) => {
      expect((await asB('POST', '/v1/agents', { name: 'a-agent', owner: 'b' })).status).toBe(201); // names are per project
      await unchanged(before);
    },
    'GET /v1/agents': async () => {
      expect((await asB('GET', '/v1/agents')).json.agents.map((a: { id: string }) => a.id)).not.toContain(agentA.id);
    },
    'GET /v1/agents/{id}': async () => notFound('GET', `/v1/agents/${agentA.id}`),
    'DELETE /v1/agents/{id}': async (before) => {
      await notFound('DELETE', `/v1/agents/${agentA.id}`);
      await unchanged(before);
    },
    'POST /v1/agents/{id}/credentials': async (before) => {
      await notFound('POST', `/v1/agents/${agentA.id}/credentials`, { actingFor: { type: 'user', id: 'x' }, scopes: {}, spendCapMicros: 1 });
      await unchanged(before);
    },
    'GET /v1/agents/{id}/credentials': async () => notFound('GET', `/v1/agents/${agentA.id}/credentials`),
    'DELETE /v1/credentials/{id}': async (before) => {
      await notFound('DELETE', `/v1/credentials/${credentialA.credential.id}`);
      await unchanged(before);
      expect((await t.request('GET', '/v1/whoami', { key: credentialA.token })).status).toBe(200);
    },
    'POST /v1/credentials/delegate': async (before) => {
      const res = await t.request('POST', '/v1/credentials/delegate', {
        key: await credentialB(),
        body: { agentId: agentA.id, scopes: {}, spendCapMicros: 0 },
      });
      expect([res.status, res.json.error.code]).toEqual([404, 'not_found']);
      await unchanged(before);
    },
    'POST /v1/token': async (before) => {
      const res = await asB('POST', '/v1/token', {
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: credentialA.token,
        audience: 'tool:search',
      });
      expect([res.status, res.json.error.code]).toEqual([401, 'credential_invalid']);
      await unchanged(before);
    },
    'GET /v1/policies': async () => {
      expect((await asB('GET', '/v1/policies')).json.policies).toEqual([]);
    },
    'GET /v1/policies/schema': async () => {
      expect((await asB('GET', '/v1/policies/schema')).status).toBe(200);
    },
    'POST /v1/policies': async (before) => {
      expect((await asB('POST', '/v1/policies', { name: 'tools', text: 'forbid(principal, action, resource);' })).status).toBe(201);
      await unchanged(before);
    },
    'GET /v1/policies/{id}': async () => notFound('GET', `/v1/policies/${policyA.id}`),
    'PUT /v1/policies/{id}': async (before) => {
      await notFound('PUT', `/v1/policies/${policyA.id}`, { name: 'tools', text: 'forbid(principal, action, resource);' });
      await unchanged(before);
    },
    'DELETE /v1/policies/{id}': async (before) => {
      await notFound('DELETE', `/v1/policies/${policyA.id}`);
      await unchanged(before);
    },
    'POST /v1/policies/validate': async () => {
      expect((await asB('POST', '/v1/policies/validate', { text: 'permit(principal, action, resource);' })).json.ok).toBe(true);
    },
    'POST /v1/policies/check': async () => {
      const body = { kind: 'tool.call', resource: 'search', principal: { type: 'agent', id: agentA.id } };
      expect((await t.request('POST', '/v1/policies/check', { body })).json.policyIds).toEqual([policyA.id]);
      const b = (await asB('POST', '/v1/policies/check', body)).json;
      expect(b.effect).toBe('deny'); // B's own policies decide (B has none allowing tools)
      expect(b.policyIds).not.toContain(policyA.id);
    },
    'GET /v1/approvals': async () => {
      expect((await asB('GET', '/v1/approvals')).json.approvals).toEqual([]);
    },
    'GET /v1/approvals/{id}': async () => notFound('GET', `/v1/approvals/${approvalA}`),
    'POST /v1/approvals/{id}/approve': async (before) => {
      await notFound('POST', `/v1/approvals/${approvalA}/approve`);
      await unchanged(before);
    },
    'POST /v1/approvals/{id}/deny': async (before) => {
      await notFound('POST', `/v1/approvals/${approvalA}/deny`);
      await unchanged(before);
    },
    'GET /v1/approvals/webhook': async () => {
      expect((await asB('GET', '/v1/approvals/webhook')).json.url).toBeNull();
    },
    'PUT /v1/approvals/webhook': async (before) => {
      expect((await asB('PUT', '/v1/approvals/webhook', { url: 'http://127.0.0.1:9/b' })).status).toBe(200);
      await unchanged(before);
    },
  };

  for (const [operation, run] of Object.entries(cases)) {
    it(operation, async () => {
      await run(await snapshotA());
    });
  }

  it('covers every /v1 operation in the OpenAPI document', async () => {
    const doc = (await t.request('GET', '/openapi.json', { key: null })).json as { paths: Record<string, object> };
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.filter((op) => op.includes(' /v1/') && !(op in cases))).toEqual([]);
  });
});
