import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../db/test-databases.js';
import { createTestApp, type TestApp } from '../test-app.js';

for (const dialect of DIALECTS) {
  describe(`datasets on ${dialect}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(dialect);
    });
    afterAll(async () => {
      await t.close();
    });

    const allCases = async (id: string, version?: number) => {
      const out: Array<{ id: string; input: unknown; expected: unknown }> = [];
      let cursor: string | null = null;
      do {
        const q: string = `version=${version ?? ''}&limit=2${cursor ? `&cursor=${cursor}` : ''}`.replace('version=&', '');
        const page = await t.request('GET', `/v1/datasets/${id}/cases?${q}`);
        expect(page.status).toBe(200);
        out.push(...page.json.cases);
        cursor = page.json.nextCursor;
      } while (cursor);
      return out;
    };

    it('every change makes a new version and old versions read as they were', async () => {
      const created = await t.request('POST', '/v1/datasets', {
        body: { name: 'qa', cases: [{ id: 'a', input: 'one', expected: '1' }, { id: 'b', input: 'two', expected: '2' }, { input: { q: 'three' } }] },
      });
      expect(created.status).toBe(201);
      expect(created.json).toMatchObject({ name: 'qa', latestVersion: 1, caseCount: 3 });
      const id = created.json.id as string;

      const v2 = await t.request('POST', `/v1/datasets/${id}/versions`, { body: { upsert: [{ id: 'a', input: 'one', expected: 'uno' }, { id: 'd', input: 'four' }], remove: ['b'], note: 'fix a' } });
      expect(v2.status).toBe(201);
      expect(v2.json.version).toMatchObject({ version: 2, caseCount: 3, note: 'fix a' });

      const v1Cases = await allCases(id, 1);
      expect(v1Cases.map((c) => [c.id, c.expected])).toEqual([['a', '1'], ['b', '2'], [expect.stringMatching(/^c_/), null]]);
      const v2Cases = await allCases(id);
      expect(v2Cases.map((c) => [c.id, c.expected])).toEqual([['a', 'uno'], [expect.stringMatching(/^c_/), null], ['d', null]]);
      // the derived id of the unchanged case is stable across versions
      expect(v2Cases[1]!.id).toBe(v1Cases[2]!.id);

      const versions = (await t.request('GET', `/v1/datasets/qa/versions`)).json.versions;
      expect(versions.map((v: { version: number; caseCount: number }) => [v.version, v.caseCount])).toEqual([[2, 3], [1, 3]]);
      expect((await t.request('GET', `/v1/datasets/${id}/cases?version=3`)).status).toBe(404);

      // removing a case that is not there refuses, and makes no version
      const bad = await t.request('POST', `/v1/datasets/${id}/versions`, { body: { remove: ['b'] } });
      expect([bad.status, bad.json.error.code]).toEqual([400, 'validation_failed']);
      expect((await t.request('GET', `/v1/datasets/${id}`)).json.latestVersion).toBe(2);

      const events = (await t.request('GET', '/v1/streams/evals/events')).json.events.map((e: { type: string }) => e.type);
      expect(events).toEqual(['dataset.created', 'dataset.version', 'dataset.version']);
    });

    it('imports JSONL and CSV; a bad line is named and nothing is written', async () => {
      const ds = (await t.request('POST', '/v1/datasets', { body: { name: 'imports' } })).json;
      const jsonl = ['{"id":"j1","input":{"q":"hi"},"expected":"hello","tags":["greet"]}', '', '{"id":"j2","input":"x","metadata":{"lang":"en"}}'].join('\n');
      const ok = await t.request('POST', `/v1/datasets/${ds.id}/import`, { body: jsonl, headers: { 'content-type': 'application/x-ndjson' } });
      expect(ok.status).toBe(201);
      expect(ok.json.version).toMatchObject({ version: 1, caseCount: 2 });

      const broken = ['{"id":"j3","input":"fine"}', '{"id":"j4","input":"fine"}', '{"id":"j5", input: oops}'].join('\n');
      const refused = await t.request('POST', `/v1/datasets/${ds.id}/import`, { body: broken, headers: { 'content-type': 'application/x-ndjson' } });
      expect([refused.status, refused.json.error.code, refused.json.error.details.line]).toEqual([400, 'validation_failed', 3]);
      expect(refused.json.error.message).toMatch(/^line 3:/);
      const missingInput = await t.request('POST', `/v1/datasets/${ds.id}/import`, { body: '{"id":"j3","input":1}\n{"id":"j4"}\n', headers: { 'content-type': 'application/x-ndjson' } });
      expect(missingInput.json.error.details.line).toBe(2);
      expect((await t.request('GET', `/v1/datasets/${ds.id}`)).json).toMatchObject({ latestVersion: 1, caseCount: 2 });

      const csv = 'id,input,expected,tags,metadata.lang\nc1,"{""q"":""hola""}",hello,greet;es,es\nc2,plain text,,,\n';
      const fromCsv = await t.request('POST', `/v1/datasets/${ds.id}/import`, { body: csv, headers: { 'content-type': 'text/csv' } });
      expect(fromCsv.status).toBe(201);
      const cases = await allCases(ds.id);
      expect(cases.find((c) => c.id === 'c1')).toMatchObject({ input: { q: 'hola' }, expected: 'hello', tags: ['greet', 'es'], metadata: { lang: 'es' } });
      expect(cases.find((c) => c.id === 'c2')).toMatchObject({ input: 'plain text', expected: null, tags: [] });

      const badCsv = 'id,input\nx1,fine\nx2,"{not json"\n';
      const csvRefused = await t.request('POST', `/v1/datasets/${ds.id}/import`, { body: badCsv, headers: { 'content-type': 'text/csv' } });
      expect([csvRefused.status, csvRefused.json.error.details.line]).toEqual([400, 3]);
      const wrongType = await t.request('POST', `/v1/datasets/${ds.id}/import`, { body: 'x', headers: { 'content-type': 'text/plain' } });
      expect([wrongType.status, wrongType.json.error.code]).toEqual([415, 'unsupported_media_type']);
      expect((await t.request('GET', `/v1/datasets/${ds.id}`)).json.latestVersion).toBe(2);

      // export any version; CSV round-trips through import
      const v1 = await t.request('GET', `/v1/datasets/${ds.id}/export?version=1`);
      expect(v1.headers.get('content-type')).toMatch(/x-ndjson/);
      expect(v1.text.trim().split('\n').map((l) => JSON.parse(l).id)).toEqual(['j1', 'j2']);
      const exported = await t.request('GET', `/v1/datasets/${ds.id}/export?format=csv`);
      const copy = (await t.request('POST', '/v1/datasets', { body: { name: 'imports-copy' } })).json;
      expect((await t.request('POST', `/v1/datasets/${copy.id}/import`, { body: exported.text, headers: { 'content-type': 'text/csv' } })).status).toBe(201);
      const strip = (cs: Array<Record<string, unknown>>) => cs.map(({ source: _s, ...rest }) => rest);
      expect(strip(await allCases(copy.id))).toEqual(strip(cases));
    });

    it('adds production spans as cases with their messages', async () => {
      const traceId = 'ab'.repeat(16);
      const spanId = 'cd'.repeat(8);
      await t.traces.record('proj_default', [
        {
          traceId, spanId, parentSpanId: null, name: 'chat', kind: 'llm', status: 'ok', statusMessage: null, errorType: null,
          startTime: '2026-03-01T10:00:00.000Z', endTime: '2026-03-01T10:00:01.000Z', durationMs: 1000, serviceName: null,
          agent: 'support', provider: 'openai', model: 'gpt-4o', usage: { input: 1, output: 1, cacheRead: null, cacheWrite: null, reasoning: null },
          providerCostMicros: null, toolName: null, attributes: {}, source: 'otlp',
          input: [{ role: 'user', content: 'Where is my order?' }], output: [{ role: 'assistant', content: 'On its way.' }],
        },
      ]);
      const ds = (await t.request('POST', '/v1/datasets', { body: { name: 'from-prod' } })).json;
      const missing = await t.request('POST', `/v1/datasets/${ds.id}/spans`, { body: { spans: [{ traceId, spanId }, { traceId, spanId: 'ee'.repeat(8) }] } });
      expect([missing.status, missing.json.error.code]).toEqual([404, 'not_found']);
      expect((await t.request('GET', `/v1/datasets/${ds.id}`)).json.latestVersion).toBe(0);
      const added = await t.request('POST', `/v1/datasets/${ds.id}/spans`, { body: { spans: [{ traceId, spanId }], tags: ['prod'] } });
      expect(added.status).toBe(201);
      const [c] = await allCases(ds.id);
      expect(c).toMatchObject({
        id: `span:${traceId}/${spanId}`,
        source: `span:${traceId}/${spanId}`,
        input: [{ role: 'user', content: 'Where is my order?' }],
        expected: [{ role: 'assistant', content: 'On its way.' }],
        tags: ['prod'],
      });
    });
  });
}
