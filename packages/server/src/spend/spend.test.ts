import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../db/test-databases.js';
import { createTestApp, type TestApp } from '../test-app.js';
import { generateApiKey, hashApiKey, keyPrefix } from '../tenancy/api-keys.js';
import { createTenancyStore } from '../tenancy/tenancy-store.js';
import type { SpanInput } from '../traces/traces-service.js';

/** test/unit at $1,000 per million tokens in and out: 1,000 micro-USD a token. */
const PRICES = { overrides: [{ provider: 'test', model: 'unit', effectiveFrom: '2020-01-01', input: 1e9, output: 1e9 }] };
const WINDOW = 'from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z';

let spanSeq = 0;
function span(startTime: string, input: number, output: number): SpanInput {
  spanSeq += 1;
  const hex = spanSeq.toString(16).padStart(4, '0');
  return {
    traceId: hex.repeat(8),
    spanId: hex.repeat(4),
    parentSpanId: null,
    name: 'chat',
    kind: 'llm',
    status: 'ok',
    statusMessage: null,
    errorType: null,
    startTime,
    endTime: startTime,
    durationMs: 0,
    serviceName: null,
    agent: 'planner',
    provider: 'test',
    model: 'unit',
    usage: { input, output, cacheRead: null, cacheWrite: null, reasoning: null },
    providerCostMicros: null,
    toolName: null,
    attributes: {},
    source: 'otlp',
  };
}

for (const dialect of DIALECTS) {
  describe(`organization spend (${dialect})`, () => {
    let t: TestApp;
    let research: { id: string; key: string };
    let empty: { id: string };
    let other: { orgId: string; defaultId: string; secretId: string; key: string; secretKey: string };

    /** An organization only the store can make (the API has no route for one), with projects and admin keys. */
    async function otherOrganization() {
      const store = createTenancyStore(t.database.db);
      const createdAt = new Date().toISOString();
      await store.insertOrganization({ id: 'org_other', name: 'Other Co', createdAt });
      const keys: string[] = [];
      for (const [id, name] of [['proj_other_default', 'Default'], ['proj_other_secret', 'Secret plans']] as const) {
        await store.insertProject({ id, organizationId: 'org_other', name, retentionDays: null, createdAt });
        const secret = generateApiKey();
        await store.insertKey({ id: `key_${id}`, projectId: id, name: 'admin', role: 'admin', prefix: keyPrefix(secret), keyHash: hashApiKey(secret), createdAt });
        keys.push(secret);
      }
      return { orgId: 'org_other', defaultId: 'proj_other_default', secretId: 'proj_other_secret', key: keys[0]!, secretKey: keys[1]! };
    }

    beforeAll(async () => {
      t = await createTestApp(dialect);
      const created = (await t.request('POST', '/v1/projects', { body: { name: 'Research' } })).json;
      research = { id: created.project.id, key: created.key.key };
      empty = (await t.request('POST', '/v1/projects', { body: { name: 'Empty' } })).json.project;
      other = await otherOrganization();
      for (const key of [undefined, research.key, other.key, other.secretKey]) {
        expect((await t.request('PUT', '/v1/prices', { key, body: PRICES })).status).toBe(200);
      }
      await t.traces.record('proj_default', [
        span('2026-03-01T09:00:00.000Z', 10, 10), // $0.02
        span('2026-03-01T23:59:59.999Z', 10, 10), // $0.02
        span('2026-03-02T12:00:00.000Z', 5, 5), // $0.01
      ]);
      await t.traces.record(research.id, [
        span('2026-02-28T23:59:59.999Z', 100, 100), // before the window
        span('2026-03-02T08:00:00.000Z', 30, 10), // $0.04
        span('2026-03-03T00:00:00.000Z', 100, 100), // the window's end is exclusive
      ]);
      await t.traces.record(other.defaultId, [span('2026-03-01T10:00:00.000Z', 500, 500)]); // $1
      await t.traces.record(other.secretId, [span('2026-03-02T10:00:00.000Z', 2000, 0)]); // $2
    });
    afterAll(async () => {
      await t.close();
    });

    it("shows an admin every project of its organization with cost, calls and tokens, and none of another's", async () => {
      const res = await t.request('GET', `/v1/organization/spend?${WINDOW}`);
      expect(res.status).toBe(200);
      expect(res.json.organization).toEqual({ id: 'org_default', name: 'Default' });
      expect([res.json.from, res.json.to]).toEqual(['2026-03-01T00:00:00.000Z', '2026-03-03T00:00:00.000Z']);
      const totals = (name: string, projectId: string, calls: number, input: number, output: number) => ({
        projectId,
        projectName: name,
        calls,
        costMicros: (input + output) * 1000,
        tokensInput: input,
        tokensOutput: output,
        totalTokens: input + output,
      });
      expect(res.json.projects).toEqual([
        totals('Default', 'proj_default', 3, 25, 25),
        totals('Research', research.id, 1, 30, 10),
        totals('Empty', empty.id, 0, 0, 0),
      ]);
      expect(res.json.days.map((d: { day: string; projectId: string; costMicros: number; calls: number }) => [d.day, d.projectId, d.costMicros, d.calls])).toEqual([
        ['2026-03-01', 'proj_default', 40_000, 2],
        ['2026-03-02', research.id, 40_000, 1],
        ['2026-03-02', 'proj_default', 10_000, 1],
      ]);
      expect(res.text).not.toContain('proj_other');
      expect(res.text).not.toContain('Secret plans');
    });

    it('agrees with each project’s own cost per day (GET /v1/spans/aggregates), the Spend page’s source', async () => {
      const org = (await t.request('GET', `/v1/organization/spend?${WINDOW}`)).json;
      for (const [projectId, key] of [['proj_default', undefined], [research.id, research.key]] as const) {
        const own = (await t.request('GET', `/v1/spans/aggregates?${WINDOW}&groupBy=day&percentiles=false`, { key })).json;
        const fromOrg = org.days.filter((d: { projectId: string }) => d.projectId === projectId);
        expect(fromOrg.map((d: { day: string; costMicros: number; calls: number; totalTokens: number }) => [d.day, d.costMicros, d.calls, d.totalTokens])).toEqual(
          own.groups.map((g: { key: string; costMicros: number; calls: number; totalTokens: number }) => [g.key, g.costMicros, g.calls, g.totalTokens]),
        );
      }
    });

    it('gives an admin key of a sibling project the same view, and the other organization only its own', async () => {
      const fromResearch = await t.request('GET', `/v1/organization/spend?${WINDOW}`, { key: research.key });
      expect(fromResearch.json).toEqual((await t.request('GET', `/v1/organization/spend?${WINDOW}`)).json);

      const otherView = (await t.request('GET', `/v1/organization/spend?${WINDOW}`, { key: other.key })).json;
      expect(otherView.organization).toEqual({ id: 'org_other', name: 'Other Co' });
      expect(otherView.projects.map((p: { projectName: string; costMicros: number }) => [p.projectName, p.costMicros])).toEqual([
        ['Secret plans', 2_000_000],
        ['Default', 1_000_000],
      ]);
      expect(otherView.days.map((d: { projectId: string }) => d.projectId).sort()).toEqual([other.defaultId, other.secretId]);
    });

    it('refuses keys that are not admin, and agent credentials, with forbidden', async () => {
      const member = (await t.request('POST', '/v1/keys', { body: { name: 'm', role: 'member' } })).json.key;
      const readOnly = (await t.request('POST', '/v1/keys', { body: { name: 'r', role: 'read-only' } })).json.key;
      const agent = (await t.request('POST', '/v1/agents', { body: { name: 'spender', owner: 'ops' } })).json;
      const credential = (
        await t.request('POST', `/v1/agents/${agent.id}/credentials`, {
          body: { actingFor: { type: 'user', id: 'alice' }, scopes: { models: ['*'], tools: ['*'], actions: ['*'] }, spendCapMicros: 100 },
        })
      ).json.token;
      for (const key of [member, readOnly, credential]) {
        const res = await t.request('GET', `/v1/organization/spend?${WINDOW}`, { key });
        expect([res.status, res.json.error.code]).toEqual([403, 'forbidden']);
        expect(res.text).not.toContain('Research');
      }
    });

    it('refuses a missing, malformed or inverted window and unknown parameters with validation_failed', async () => {
      for (const query of [
        'from=2026-03-01T00:00:00Z',
        'from=yesterday&to=2026-03-03T00:00:00Z',
        'from=2026-03-03T00:00:00Z&to=2026-03-01T00:00:00Z',
        `${WINDOW}&project=proj_other_secret`,
      ]) {
        const res = await t.request('GET', `/v1/organization/spend?${query}`);
        expect([query, res.status, res.json.error.code]).toEqual([query, 400, 'validation_failed']);
      }
    });
  });
}
