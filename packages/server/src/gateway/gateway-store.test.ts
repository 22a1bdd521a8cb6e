import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../db/test-databases.js';
import { createTestApp, type TestApp } from '../test-app.js';

const SECRET = 'test-secret-0123456789abcdef';

for (const dialect of DIALECTS) {
  describe(`gateway storage on ${dialect}`, () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await createTestApp(dialect, { secret: SECRET });
    });
    afterEach(async () => {
      await t.close();
    });

    it('stores providers (key sealed) and routes, replaces and deletes them', async () => {
      const saved = await t.request('PUT', '/v1/gateway/providers/main', {
        body: { type: 'openai', apiKey: 'sk-secret', headers: { 'OpenAI-Organization': 'org-1' } },
      });
      expect(saved.json).toMatchObject({
        name: 'main',
        type: 'openai',
        hasApiKey: true,
        headerNames: ['OpenAI-Organization'],
        baseUrl: null,
      });
      await t.request('PUT', '/v1/gateway/providers/main', {
        body: { type: 'openai', baseUrl: 'http://127.0.0.1:1/v1' },
      });
      const [row] = await t.database.db.selectFrom('gateway_providers').selectAll().execute();
      expect(row).toMatchObject({
        base_url: 'http://127.0.0.1:1/v1',
        key_ciphertext: expect.stringMatching(/^v1\./),
      });
      expect(row!.created_at <= row!.updated_at).toBe(true);

      const route = await t.request('PUT', '/v1/gateway/routes/smart', {
        body: { targets: ['main/gpt-4o', 'hangar/echo'] },
      });
      expect(route.json).toMatchObject({
        name: 'smart',
        targets: ['main/gpt-4o', 'hangar/echo'],
        retry: { maxRetries: 2 },
        timeouts: { perTryMs: 60_000, totalMs: 120_000 },
        cache: null,
      });
      expect(
        (await t.request('GET', '/v1/gateway/routes')).json.routes.map((r: { name: string }) => r.name),
      ).toEqual(['smart']);
      expect((await t.request('DELETE', '/v1/gateway/routes/smart')).status).toBe(204);
      expect((await t.request('DELETE', '/v1/gateway/providers/main')).status).toBe(204);
      expect((await t.request('GET', '/v1/gateway/providers')).json.providers).toEqual([]);
      const admin = (await t.request('GET', '/v1/streams/admin/events')).json.events.map(
        (e: { type: string }) => e.type,
      );
      expect(admin).toEqual(
        expect.arrayContaining([
          'gateway.provider.saved',
          'gateway.route.saved',
          'gateway.route.deleted',
          'gateway.provider.deleted',
        ]),
      );
    });

    it('records every one of many concurrent calls (they share transactions), and a read after them sees them all', async () => {
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          t.request('POST', '/v1/chat/completions', {
            body: { model: 'hangar/echo', messages: [{ role: 'user', content: `n${i}` }] },
          }),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(40).fill(200));
      const events = (await t.request('GET', '/v1/streams/gateway/events?limit=100')).json.events;
      expect(events.map((e: { seq: number }) => e.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(new Set(events.map((e: { payload: { callId: string } }) => e.payload.callId)).size).toBe(40);
      expect((await t.request('POST', '/v1/journal/verify', { body: { stream: 'gateway' } })).json.ok).toBe(
        true,
      );
      const spans = await t.database.db
        .selectFrom('spans')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(spans.n)).toBe(40);
    });

    it('journals calls in a verifiable chain, answers from the cache, and replays by canonical request', async () => {
      await t.request('PUT', '/v1/gateway/routes/cached', {
        body: { targets: ['hangar/echo'], cache: { ttlSeconds: 60 } },
      });
      const ask = { model: 'cached', messages: [{ role: 'user', content: 'ping' }] };
      const first = await t.request('POST', '/v1/chat/completions', { body: ask });
      const second = await t.request('POST', '/v1/chat/completions', { body: { ...ask, stream: false } });
      expect([first.headers.get('x-hangar-cache'), second.headers.get('x-hangar-cache')]).toEqual([
        'miss',
        'hit',
      ]);
      expect(second.json.choices[0].message.content).toBe('ping');

      await t.request('PUT', '/v1/gateway/providers/tape', { body: { type: 'replay' } });
      await t.request('PUT', '/v1/gateway/routes/cached', { body: { targets: ['tape/x'] } });
      const replayed = await t.request('POST', '/v1/chat/completions', { body: ask });
      expect(replayed.json.id).toBe(first.json.id);

      const events = (await t.request('GET', '/v1/streams/gateway/events')).json.events;
      expect(
        events.map((e: { payload: { cache: string | null; replayOf: unknown } }) => [
          e.payload.cache,
          e.payload.replayOf !== null,
        ]),
      ).toEqual([
        ['miss', false],
        ['hit', false],
        [null, true],
      ]);
      expect(
        (await t.request('POST', '/v1/journal/verify', { body: { stream: 'gateway' } })).json,
      ).toMatchObject({ ok: true, events: 3 });
      const spans = await t.database.db.selectFrom('spans').select(['source', 'kind', 'status']).execute();
      expect(spans).toEqual(Array(3).fill({ source: 'gateway', kind: 'llm', status: 'ok' }));
    });
  });
}
