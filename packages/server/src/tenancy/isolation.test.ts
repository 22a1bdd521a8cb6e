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

  const snapshotA = async () => {
    const db = t.database.db;
    const keys = await db.selectFrom('api_keys').selectAll().where('project_id', '=', 'proj_default').orderBy('id').execute();
    const events = await db.selectFrom('journal_events').selectAll().where('project_id', '=', 'proj_default').orderBy('stream').orderBy('seq').execute();
    const project = await db.selectFrom('projects').selectAll().where('id', '=', 'proj_default').executeTakeFirst();
    const gateway = await Promise.all(
      (['gateway_providers', 'gateway_routes', 'gateway_answers'] as const).map((table) =>
        db.selectFrom(table).selectAll().where('project_id', '=', 'proj_default').execute(),
      ),
    );
    return JSON.stringify({ keys, events, project, gateway });
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
    // A's gateway: a provider, a cached route, and one recorded answer to it
    expect((await t.request('PUT', '/v1/gateway/providers/secretprov', { body: { type: 'openai-compatible', baseUrl: 'http://127.0.0.1:9/v1' } })).status).toBe(200);
    expect((await t.request('PUT', '/v1/gateway/routes/secret-route', { body: { targets: ['hangar/echo'], cache: { ttlSeconds: 600 } } })).status).toBe(200);
    expect((await t.request('POST', '/v1/chat/completions', { body: askA })).status).toBe(200);
  });
  afterAll(async () => {
    await t.close();
  });

  const askA = { model: 'secret-route', messages: [{ role: 'user', content: 'A only' }] };
  type Case = (before: string) => Promise<void>;
  const asB = (method: string, path: string, body?: unknown) => t.request(method, path, { key: keyB, body });
  const unchanged = async (before: string) => expect(await snapshotA()).toBe(before);

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
    'GET /v1/models': async () => {
      const ids = (await asB('GET', '/v1/models')).json.data.map((m: { id: string }) => m.id);
      expect(ids).toEqual(['hangar/echo']);
    },
    'GET /v1/gateway/providers': async () => {
      expect((await asB('GET', '/v1/gateway/providers')).json.providers).toEqual([]);
    },
    'DELETE /v1/gateway/providers/{name}': async (before) => {
      const res = await asB('DELETE', '/v1/gateway/providers/secretprov');
      expect([res.status, res.json.error.code]).toEqual([404, 'not_found']);
      await unchanged(before);
    },
    'PUT /v1/gateway/providers/{name}': async (before) => {
      expect((await asB('PUT', '/v1/gateway/providers/secretprov', { type: 'replay' })).status).toBe(200);
      await unchanged(before);
    },
    'GET /v1/gateway/routes': async () => {
      expect((await asB('GET', '/v1/gateway/routes')).json.routes).toEqual([]);
    },
    'DELETE /v1/gateway/routes/{name}': async (before) => {
      const res = await asB('DELETE', '/v1/gateway/routes/secret-route');
      expect([res.status, res.json.error.code]).toEqual([404, 'not_found']);
      await unchanged(before);
    },
    'PUT /v1/gateway/routes/{name}': async (before) => {
      expect((await asB('PUT', '/v1/gateway/routes/b-route', { targets: ['hangar/echo'] })).status).toBe(200);
      await unchanged(before);
    },
    'POST /v1/embeddings': async (before) => {
      const res = await asB('POST', '/v1/embeddings', { model: 'secret-route', input: 'x' });
      expect([res.status, res.json.error.code]).toEqual([404, 'model_not_found']);
      await unchanged(before);
    },
    'POST /v1/messages': async (before) => {
      const res = await asB('POST', '/v1/messages', { model: 'secretprov/x', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
      // B's own secretprov (a replay provider, made above) answers, never A's
      expect([res.status, res.json.error.code]).toEqual([422, 'upstream_rejected']);
      await unchanged(before);
    },
    'POST /v1/chat/completions': async (before) => {
      const unknown = await asB('POST', '/v1/chat/completions', askA);
      expect([unknown.status, unknown.json.error.code]).toEqual([404, 'model_not_found']);
      // the same canonical request in B: neither A's cache nor A's recorded answer is visible to B's replay
      await asB('PUT', '/v1/gateway/routes/secret-route', { targets: ['secretprov/x'], cache: { ttlSeconds: 600 } });
      const replay = await asB('POST', '/v1/chat/completions', askA);
      expect([replay.status, replay.json.error.code, replay.headers.get('x-hangar-cache')]).toEqual([422, 'upstream_rejected', null]);
      await unchanged(before);
    },
    'GET /v1/blobs/{sha256}': async () => {
      const res = await asB('GET', `/v1/blobs/${blobShaA}`);
      expect([res.status, res.json.error.code]).toEqual([404, 'not_found']);
      expect((await t.request('GET', `/v1/blobs/${blobShaA}`)).status).toBe(200);
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
