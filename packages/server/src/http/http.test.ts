import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '@hangar/protocol';
import { createTestApp, type TestApp } from '../test-app.js';

describe('HTTP surface', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp('sqlite', { maxBodyBytes: 64 * 1024 });
  });
  afterEach(async () => {
    await t.close();
  });

  const countEvents = async () =>
    Number((await t.database.db.selectFrom('journal_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  it('answers health, readiness and metrics without a key', async () => {
    expect((await t.request('GET', '/healthz', { key: null })).json).toEqual({ status: 'ok' });
    expect((await t.request('GET', '/readyz', { key: null })).json).toMatchObject({ status: 'ready' });
    await t.request('GET', '/v1/whoami');
    const metrics = await t.request('GET', '/metrics', { key: null });
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/hangar_http_requests_total\{method="GET",route="\/v1\/whoami",status="200"\} 1/);
    expect(metrics.text).toContain('hangar_http_request_duration_seconds_bucket');
  });

  it('publishes an OpenAPI 3.1 document covering every /v1 route', async () => {
    const res = await t.request('GET', '/openapi.json', { key: null });
    expect(res.json.openapi).toBe('3.1.0');
    expect(Object.keys(res.json.paths)).toEqual(
      expect.arrayContaining(['/v1/whoami', '/v1/keys', '/v1/keys/{id}', '/v1/streams/{stream}/events', '/v1/journal/verify']),
    );
    const create = res.json.paths['/v1/keys'].post;
    expect(create.requestBody.content['application/json'].schema).toBeDefined();
    expect(create.responses['403']).toBeDefined();
  });

  it('echoes a sane x-request-id and puts the request id in every error', async () => {
    const res = await t.request('GET', '/v1/whoami', { key: null, headers: { 'x-request-id': 'trace-abc.1' } });
    expect(res.headers.get('x-request-id')).toBe('trace-abc.1');
    expect(res.json.error.requestId).toBe('trace-abc.1');
  });

  describe('authentication', () => {
    it('refuses no key, a malformed key and an unknown key with 401 and their codes', async () => {
      const none = await t.request('GET', '/v1/whoami', { key: null });
      expect([none.status, none.json.error.code]).toEqual([401, 'unauthenticated']);
      const malformed = await t.request('GET', '/v1/whoami', { key: 'not-a-key' });
      expect([malformed.status, malformed.json.error.code]).toEqual([401, 'invalid_key']);
      const unknown = await t.request('GET', '/v1/whoami', { key: 'hk_' + 'z'.repeat(32) });
      expect([unknown.status, unknown.json.error.code]).toEqual([401, 'invalid_key']);
    });

    it('accepts the key in x-hangar-key too', async () => {
      const res = await t.request('GET', '/v1/whoami', { key: null, headers: { 'x-hangar-key': 'hk_' + 'A'.repeat(32) } });
      expect(res.status).toBe(200);
      expect(res.json.key.role).toBe('admin');
    });

    it('refuses a revoked key on its next request, and it writes nothing', async () => {
      const created = await t.request('POST', '/v1/keys', { body: { name: 'bot', role: 'member' } });
      expect(created.status).toBe(201);
      const key = created.json.key as string;
      expect((await t.request('GET', '/v1/whoami', { key })).status).toBe(200);
      expect((await t.request('DELETE', `/v1/keys/${created.json.id}`)).json.revokedAt).toBeTruthy();
      const before = await countEvents();
      const res = await t.request('POST', '/v1/streams/s/events', { key, body: { events: [{ type: 'x' }] } });
      expect([res.status, res.json.error.code]).toEqual([401, 'key_revoked']);
      expect(await countEvents()).toBe(before);
    });

    it('lets each role do what it is for and nothing more', async () => {
      const make = async (role: string) => (await t.request('POST', '/v1/keys', { body: { name: role, role } })).json.key as string;
      const member = await make('member');
      const readOnly = await make('read-only');
      const ingest = await make('ingest-only');
      const append = (key: string) => t.request('POST', '/v1/streams/s/events', { key, body: { events: [{ type: 'x' }] } });
      const read = (key: string) => t.request('GET', '/v1/streams/s/events', { key });
      const listKeys = (key: string) => t.request('GET', '/v1/keys', { key });

      expect([(await append(member)).status, (await read(member)).status, (await listKeys(member)).status]).toEqual([201, 200, 403]);
      expect([(await append(ingest)).status, (await read(ingest)).status, (await listKeys(ingest)).status]).toEqual([201, 403, 403]);
      expect([(await append(readOnly)).status, (await read(readOnly)).status, (await listKeys(readOnly)).status]).toEqual([403, 200, 403]);
      const refused = await append(readOnly);
      expect(refused.json.error).toMatchObject({ code: 'forbidden', details: { role: 'read-only', needs: 'ingest' } });
    });
  });

  describe('bad input gets a 4xx and changes nothing', () => {
    it('malformed JSON → 400 invalid_json', async () => {
      const before = await countEvents();
      const res = await t.request('POST', '/v1/streams/s/events', { body: '{"events": [' });
      expect([res.status, res.json.error.code]).toEqual([400, 'invalid_json']);
      expect(await countEvents()).toBe(before);
    });

    it('wrong types → 400 validation_failed naming each field', async () => {
      const before = await countEvents();
      const res = await t.request('POST', '/v1/streams/s/events', { body: { events: [{ type: 42 }], expectedSeq: 'x' } });
      expect([res.status, res.json.error.code]).toEqual([400, 'validation_failed']);
      const paths = res.json.error.details.issues.map((i: { path: string }) => i.path);
      expect(paths).toEqual(expect.arrayContaining(['json.events.0.type', 'json.expectedSeq']));
      expect(await countEvents()).toBe(before);
    });

    it('a bad stream name or query → 400 validation_failed', async () => {
      expect((await t.request('POST', '/v1/streams/%20bad/events', { body: { events: [{ type: 'x' }] } })).json.error.code).toBe(
        'validation_failed',
      );
      expect((await t.request('GET', '/v1/streams/s/events?limit=100000')).json.error.code).toBe('validation_failed');
    });

    it('an oversized body → 413 payload_too_large', async () => {
      const before = await countEvents();
      const body = JSON.stringify({ events: [{ type: 'x', payload: 'y'.repeat(100_000) }] });
      const res = await t.request('POST', '/v1/streams/s/events', { body });
      expect([res.status, res.json.error.code]).toEqual([413, 'payload_too_large']);
      // judged by its content-length when it has one (as over a socket), unread
      const declared = await t.request('POST', '/v1/streams/s/events', { body, headers: { 'content-length': String(body.length) } });
      expect([declared.status, declared.json.error.code]).toEqual([413, 'payload_too_large']);
      expect(await countEvents()).toBe(before);
      const fits = JSON.stringify({ events: [{ type: 'x' }] });
      expect((await t.request('POST', '/v1/streams/s/events', { body: fits, headers: { 'content-length': String(fits.length) } })).status).toBe(201);
      expect(await countEvents()).toBe(before + 1);
    });

    it('a body that is not JSON → 415 unsupported_media_type', async () => {
      const res = await t.request('POST', '/v1/keys', { body: 'name=x', headers: { 'content-type': 'text/plain' } });
      expect([res.status, res.json.error.code]).toEqual([415, 'unsupported_media_type']);
    });

    it('an unknown route → 404 not_found as JSON', async () => {
      const res = await t.request('GET', '/v1/nothing-here');
      expect([res.status, res.json.error.code]).toEqual([404, 'not_found']);
      const post = await t.request('POST', '/nothing', { key: null });
      expect([post.status, post.json.error.code]).toEqual([404, 'not_found']);
    });

    it('every error code in responses comes from the table', async () => {
      const res = await t.request('GET', '/v1/whoami', { key: null });
      expect(Object.keys(ERROR_CODES)).toContain(res.json.error.code);
      expect(res.status).toBe(ERROR_CODES.unauthenticated.status);
    });
  });

  it('journals key changes in the admin stream', async () => {
    const created = await t.request('POST', '/v1/keys', { body: { name: 'bot' } });
    await t.request('DELETE', `/v1/keys/${created.json.id}`);
    const events = (await t.request('GET', '/v1/streams/admin/events')).json.events;
    expect(events.map((e: { type: string }) => e.type)).toEqual(['key.created', 'key.created', 'key.revoked']);
    expect(JSON.stringify(events)).not.toContain(created.json.key);
  });
});
