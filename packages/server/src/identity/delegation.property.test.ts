import fc from 'fast-check';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test-app.js';
import { isSubset } from './narrowing.js';

const MODELS = ['gpt-4o', 'o3', 'claude-sonnet', 'claude-haiku', 'llama'];
const TOOLS = ['search', 'fetch', 'shell', 'email', 'pay'];
const ACTIONS = ['model.call', 'tool.call', 'sandbox.exec', 'payment.create', 'data.read'];

/** A scope list: some of the universe, sometimes "*" (anything), sometimes a value outside the universe. */
const scopeList = (universe: string[]): fc.Arbitrary<string[]> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.subarray(universe) },
    { weight: 1, arbitrary: fc.constant<string[]>(['*']) },
    { weight: 1, arbitrary: fc.subarray(universe).map((l) => [...l, 'unheard-of']) },
  );
const scopes = fc.record({ models: scopeList(MODELS), tools: scopeList(TOOLS), actions: scopeList(ACTIONS).map((l) => l.filter((a) => a !== 'unheard-of')) });

/** Independent statement of "narrower": every value the child allows, the parent allows. */
function allows(list: string[], value: string) {
  return list.includes('*') || list.includes(value);
}
function narrower(child: string[], parent: string[]) {
  if (child.includes('*')) return parent.includes('*');
  return child.every((v) => allows(parent, v));
}

describe('delegation can only narrow (property-based)', () => {
  it('isSubset agrees with "every value the child allows, the parent allows"', () => {
    fc.assert(
      fc.property(scopeList(TOOLS), scopeList(TOOLS), (child, parent) => {
        expect(isSubset(child, parent)).toBe(narrower(child, parent));
        // and on the concrete values: nothing the child allows is outside the parent
        if (isSubset(child, parent)) for (const v of [...TOOLS, 'unheard-of']) if (allows(child, v)) expect(allows(parent, v)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  describe('through the API, on random scope sets', () => {
    let t: TestApp;
    let sub: string;
    let parentAgent: string;
    beforeAll(async () => {
      t = await createTestApp();
      parentAgent = (await t.request('POST', '/v1/agents', { body: { name: 'parent', owner: 'o' } })).json.id;
      sub = (await t.request('POST', '/v1/agents', { body: { name: 'child', owner: 'o' } })).json.id;
    });
    afterAll(async () => {
      await t.close();
    });

    it('issues a credential only when scopes ⊆, cap ≤ remaining and expiry ≤ the parent’s; otherwise delegation_escalation', async () => {
      await fc.assert(
        fc.asyncProperty(
          scopes,
          scopes,
          fc.integer({ min: 0, max: 2000 }),
          fc.integer({ min: 0, max: 2000 }),
          fc.integer({ min: 60, max: 1200 }),
          fc.integer({ min: 1, max: 1500 }),
          async (parentScopes, childScopes, parentCap, childCap, parentTtl, childTtl) => {
            const parent = await t.request('POST', `/v1/agents/${parentAgent}/credentials`, {
              body: { actingFor: { type: 'user', id: 'u' }, scopes: parentScopes, spendCapMicros: parentCap, ttlSeconds: parentTtl },
            });
            expect(parent.status).toBe(201);
            const res = await t.request('POST', '/v1/credentials/delegate', {
              key: parent.json.token,
              body: { agentId: sub, scopes: childScopes, spendCapMicros: childCap, ttlSeconds: childTtl },
            });
            const parentExp = decodeJwt(parent.json.token).exp!;
            const ok =
              narrower(childScopes.models, parentScopes.models) &&
              narrower(childScopes.tools, parentScopes.tools) &&
              narrower(childScopes.actions, parentScopes.actions) &&
              childCap <= parentCap &&
              Date.now() / 1000 + childTtl <= parentExp - 1; // a second of slack either way is not decided here
            const clearlyWider =
              !narrower(childScopes.models, parentScopes.models) ||
              !narrower(childScopes.tools, parentScopes.tools) ||
              !narrower(childScopes.actions, parentScopes.actions) ||
              childCap > parentCap ||
              childTtl > parentTtl + 1;
            if (res.status === 201) {
              expect(clearlyWider).toBe(false);
              const claims = decodeJwt(res.json.token) as { exp: number; hangar: { scopes: typeof childScopes; spend_cap_micros: number } };
              expect(claims.exp).toBeLessThanOrEqual(parentExp);
              expect(claims.hangar.spend_cap_micros).toBeLessThanOrEqual(parentCap);
              for (const f of ['models', 'tools', 'actions'] as const) expect(narrower(claims.hangar.scopes[f], parentScopes[f])).toBe(true);
            } else {
              expect([res.status, res.json.error.code]).toEqual([403, 'delegation_escalation']);
              expect(ok).toBe(false);
            }
          },
        ),
        { numRuns: 60 },
      );
    }, 60_000);
  });
});
