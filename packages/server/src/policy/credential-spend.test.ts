import { afterEach, describe, expect, it } from 'vitest';
import type { Action } from '../actions/action.js';
import { DIALECTS } from '../db/test-databases.js';
import { actorChainOf } from '../http/app-env.js';
import { createTestApp, type TestApp } from '../test-app.js';

for (const dialect of DIALECTS) {
  describe(`credential spend caps under concurrency on ${dialect}`, () => {
    let t: TestApp;
    afterEach(async () => {
      await t.close();
    });

    it('concurrent actions of a credential and its delegate never spend past either cap together', async () => {
      t = await createTestApp(dialect);
      const planner = (await t.request('POST', '/v1/agents', { body: { name: 'planner', owner: 'o' } })).json.id;
      const worker = (await t.request('POST', '/v1/agents', { body: { name: 'worker', owner: 'o' } })).json.id;
      const scopes = { models: ['*'], tools: [], actions: ['*'] };
      const parent = (await t.request('POST', `/v1/agents/${planner}/credentials`, { body: { actingFor: { type: 'user', id: 'alice' }, scopes, spendCapMicros: 1000 } })).json;
      const child = (await t.request('POST', '/v1/credentials/delegate', { key: parent.token, body: { agentId: worker, scopes, spendCapMicros: 800 } })).json;
      expect(child.credential.spendCapMicros).toBe(800);

      // 12 calls by each, 100 at most and 100 spent each, every executor slow enough that they all overlap
      const call = async (token: string) => {
        const auth = await t.identity.authenticate(token);
        const action: Action = { kind: 'model.call', resource: 'gpt-4o', projectId: auth.project.id, actor: actorChainOf(auth), args: {}, maxCostMicros: 100 };
        try {
          await t.actions.run(action, async () => {
            await new Promise((r) => setTimeout(r, 50));
            return { value: null, costMicros: 100 };
          });
          return 'ok';
        } catch (err) {
          return (err as { code: string }).code;
        }
      };
      const outcomes = await Promise.all([...Array.from({ length: 12 }, () => call(child.token)), ...Array.from({ length: 12 }, () => call(parent.token))]);
      const byChild = outcomes.slice(0, 12).filter((o) => o === 'ok').length;
      const byParent = outcomes.slice(12).filter((o) => o === 'ok').length;
      expect(outcomes.filter((o) => o !== 'ok').every((o) => o === 'spend_cap_exceeded')).toBe(true);
      expect(byChild + byParent).toBe(10); // the parent's 1000 covers both
      expect(byChild).toBeLessThanOrEqual(8);

      const credentials = await t.database.db.selectFrom('credentials').select(['id', 'spent_micros']).execute();
      const spentOf = (id: string) => Number(credentials.find((c) => c.id === id)!.spent_micros);
      expect(spentOf(parent.credential.id)).toBe(1000);
      expect(spentOf(child.credential.id)).toBe(byChild * 100);

      // nothing is left held: a later call is refused for the cap, not for a leftover hold
      expect(await call(parent.token)).toBe('spend_cap_exceeded');
      expect(await t.database.db.selectFrom('ledger_open_holds').selectAll().execute()).toEqual([]);
    }, 120_000);

    it('an action finished twice from its stored context (two processes sweeping) is charged to the credential once', async () => {
      t = await createTestApp(dialect);
      const agent = (await t.request('POST', '/v1/agents', { body: { name: 'tooler', owner: 'o' } })).json.id;
      const issued = (await t.request('POST', `/v1/agents/${agent}/credentials`, {
        body: { actingFor: { type: 'user', id: 'alice' }, scopes: { models: ['*'], tools: [], actions: ['*'] }, spendCapMicros: 1000 },
      })).json;
      const auth = await t.identity.authenticate(issued.token);
      const action: Action = { kind: 'model.call', resource: 'gpt-4o', projectId: auth.project.id, actor: actorChainOf(auth), args: {}, maxCostMicros: 300 };
      const stored = JSON.stringify(await t.actions.begin(action));
      for (const _process of [1, 2]) await t.actions.finish(JSON.parse(stored), { ok: true, costMicros: 200 }, { status: 'ok' });
      const { spent_micros } = await t.database.db.selectFrom('credentials').select('spent_micros').where('id', '=', issued.credential.id).executeTakeFirstOrThrow();
      expect(Number(spent_micros)).toBe(200);
      expect(await t.database.db.selectFrom('ledger_open_holds').selectAll().execute()).toEqual([]);
    });
  });
}
