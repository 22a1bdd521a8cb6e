import { afterAll, describe, expect, it } from 'vitest';
import type { Action } from '../actions/action.js';
import { DIALECTS } from '../db/test-databases.js';
import { actorChainOf } from '../http/app-env.js';
import { createTestApp, type TestApp } from '../test-app.js';

/** The identity, policy and approval stores on every dialect: one story through all of them. */
for (const dialect of DIALECTS) {
  describe(`identity, policy and approvals on ${dialect}`, () => {
    let t: TestApp;
    afterAll(async () => {
      await t?.close();
    });

    it('issues, delegates, spends, asks and redeems approval, revokes', async () => {
      t = await createTestApp(dialect);
      const planner = (await t.request('POST', '/v1/agents', { body: { name: 'planner', owner: 'o', labels: { team: 'a' } } })).json.id;
      const worker = (await t.request('POST', '/v1/agents', { body: { name: 'worker', owner: 'o' } })).json.id;
      const parent = (
        await t.request('POST', `/v1/agents/${planner}/credentials`, {
          body: { actingFor: { type: 'service', id: 'billing' }, scopes: { models: ['*'], tools: ['*'], actions: ['*'] }, spendCapMicros: 3_000_000_000 },
        })
      ).json;
      expect(parent.credential.spendCapMicros).toBe(3_000_000_000); // past 32 bits
      const child = (await t.request('POST', '/v1/credentials/delegate', { key: parent.token, body: { agentId: worker, scopes: { models: [], tools: ['pay'], actions: ['payment.create'] }, spendCapMicros: 2_500_000_000 } })).json;
      expect(child.credential.chain.map((p: { id: string }) => p.id)).toEqual(['billing', planner, worker]);

      await t.request('POST', '/v1/policies', { body: { name: 'pay', text: '@effect("require_approval")\npermit(principal in Service::"billing", action == Action::"payment.create", resource);' } });
      const auth = await t.identity.authenticate(child.token);
      const action: Action = { kind: 'payment.create', resource: 'acme', projectId: auth.project.id, actor: actorChainOf(auth), args: { n: 1 }, maxCostMicros: 2_000_000_000 };
      const asked = await t.actions.run(action, async () => ({ value: 'paid', costMicros: 2_000_000_000 })).catch((e: { code: string; details: { approvalId: string } }) => e);
      expect(asked).toMatchObject({ code: 'approval_required' });
      const approvalId = (asked as { details: { approvalId: string } }).details.approvalId;
      const approval = (await t.request('POST', `/v1/approvals/${approvalId}/approve`)).json.token;
      expect(await t.actions.run({ ...action, approval }, async () => ({ value: 'paid', costMicros: 2_000_000_000 }))).toBe('paid');

      // 2,000 USD spent by the child counts against the parent: 1,000 USD left
      const credentials = (await t.request('GET', `/v1/agents/${planner}/credentials`)).json.credentials;
      expect(credentials[0].spentMicros).toBe(2_000_000_000);
      const tooMuch = await t.request('POST', '/v1/credentials/delegate', { key: parent.token, body: { agentId: worker, scopes: { models: [], tools: [], actions: [] }, spendCapMicros: 1_000_000_001 } });
      expect(tooMuch.json.error.details.violations).toEqual(['spendCapMicros']);

      expect((await t.request('DELETE', `/v1/credentials/${parent.credential.id}`)).status).toBe(200);
      expect((await t.request('GET', '/v1/whoami', { key: child.token })).json.error.code).toBe('credential_revoked');
    });
  });
}
