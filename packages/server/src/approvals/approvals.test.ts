import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Action } from '../actions/action.js';
import { actorChainOf } from '../http/app-env.js';
import { createTestApp, type TestApp } from '../test-app.js';
import { verifySignature } from '../webhooks/webhook-service.js';

describe('approvals', () => {
  let t: TestApp;
  let token: string;
  let receiver: Server;
  let received: Array<{ headers: IncomingHttpHeaders; body: string }>;
  let failFirst: number;

  beforeEach(async () => {
    t = await createTestApp();
    const agentId = (await t.request('POST', '/v1/agents', { body: { name: 'buyer', owner: 'ops' } })).json.id;
    token = (
      await t.request('POST', `/v1/agents/${agentId}/credentials`, {
        body: { actingFor: { type: 'user', id: 'alice' }, scopes: { models: [], tools: [], actions: ['payment.create'] }, spendCapMicros: 10_000_000 },
      })
    ).json.token;
    const policy = await t.request('POST', '/v1/policies', {
      body: { name: 'pay-with-approval', text: '@effect("require_approval")\npermit(principal in User::"alice", action == Action::"payment.create", resource) when { context.amount <= 5000000 };' },
    });
    expect(policy.status).toBe(201);
    received = [];
    failFirst = 1;
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.statusCode = failFirst-- > 0 ? 503 : 204;
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  });
  afterEach(async () => {
    vi.useRealTimers();
    await new Promise((r) => receiver.close(r));
    await t.close();
  });

  /** Runs a payment as the agent; says whether it executed and how it ended. */
  async function pay(args: Record<string, unknown>, approval?: string, resource = 'acme') {
    const auth = await t.identity.authenticate(token);
    const action: Action = { kind: 'payment.create', resource, projectId: auth.project.id, actor: actorChainOf(auth), args, maxCostMicros: 1_000_000, approval };
    let executed = false;
    try {
      await t.actions.run(action, async () => {
        executed = true;
        return { value: null, costMicros: 1_000_000 };
      });
      return { executed, code: null, details: null };
    } catch (err) {
      const e = err as { code: string; details: { approvalId?: string } };
      return { executed, code: e.code, details: e.details };
    }
  }
  const row = (id: string) => t.database.db.selectFrom('approvals').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it('asks, notifies a signed webhook (retried), and lets exactly the approved action through once', async () => {
    const hook = await t.request('PUT', '/v1/approvals/webhook', { body: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` } });
    expect(hook.json.secret).toMatch(/^whsec_/);

    const asked = await pay({ amountMicros: 1_000_000, to: 'acme', memo: 'invoice 7' });
    expect([asked.executed, asked.code]).toEqual([false, 'approval_required']);
    const approvalId = asked.details!.approvalId!;
    expect((await pay({ amountMicros: 1_000_000, to: 'acme', memo: 'invoice 7' })).details!.approvalId).toBe(approvalId); // a retry does not ask twice

    // refused once (503), delivered on the retry (what every server's sweeper runs)
    await vi.waitFor(async () => {
      await t.webhooks.deliverDue();
      expect(received).toHaveLength(2);
    }, { timeout: 15_000, interval: 100 });
    const [first, second] = received;
    expect(second!.headers['hangar-delivery']).toBe(first!.headers['hangar-delivery']);
    expect(second!.headers['hangar-event']).toBe('approval.requested');
    expect(verifySignature(hook.json.secret, second!.body, String(second!.headers['hangar-signature']))).toBe(true);
    expect(verifySignature('whsec_wrong', second!.body, String(second!.headers['hangar-signature']))).toBe(false);
    expect(JSON.parse(second!.body).data).toMatchObject({ id: approvalId, kind: 'payment.create', resource: 'acme', args: { memo: 'invoice 7' }, costMicros: 1_000_000 });

    const pending = (await t.request('GET', '/v1/approvals?status=pending')).json.approvals;
    expect(pending.map((a: { id: string }) => a.id)).toEqual([approvalId]);
    expect(pending[0].reason).toContain('allowed once approved');
    // the agent can wait on it, but cannot approve itself
    expect((await t.request('GET', `/v1/approvals/${approvalId}`, { key: token })).json).toMatchObject({ status: 'pending', token: null });
    expect((await t.request('POST', `/v1/approvals/${approvalId}/approve`, { key: token })).json.error.code).toBe('forbidden');

    const approved = await t.request('POST', `/v1/approvals/${approvalId}/approve`, { body: { note: 'ok, known vendor' } });
    expect(approved.json).toMatchObject({ status: 'approved', decidedBy: 'key:' + approved.json.decidedBy.split(':')[1], note: 'ok, known vendor' });
    const approval = (await t.request('GET', `/v1/approvals/${approvalId}`, { key: token })).json.token as string;
    expect(approval).toBe(approved.json.token);
    expect((await t.request('POST', `/v1/approvals/${approvalId}/deny`)).json.error.code).toBe('conflict');

    // useless for different arguments or another payee — and trying does not use it up
    const otherArgs = await pay({ amountMicros: 1_000_000, to: 'acme', memo: 'invoice 8' }, approval);
    expect([otherArgs.executed, otherArgs.code]).toEqual([false, 'approval_invalid']);
    expect((await pay({ amountMicros: 1_000_000, to: 'acme', memo: 'invoice 7' }, approval, 'evil-corp')).code).toBe('approval_invalid');
    expect((await row(approvalId)).used_at).toBeNull();

    const ok = await pay({ amountMicros: 1_000_000, to: 'acme', memo: 'invoice 7' }, approval);
    expect([ok.executed, ok.code]).toEqual([true, null]);
    const used = await row(approvalId);
    expect(used.status).toBe('used');

    // replayed: refused, not executed, nothing changed
    const replay = await pay({ amountMicros: 1_000_000, to: 'acme', memo: 'invoice 7' }, approval);
    expect([replay.executed, replay.code]).toEqual([false, 'approval_invalid']);
    expect(await row(approvalId)).toEqual(used);

    // the decision is signed: a tampered token is refused
    const [h, p, s] = approval.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    claims.approval.argsSha256 = '0'.repeat(64);
    expect((await pay({}, `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`)).code).toBe('approval_invalid');
  });

  it('a denied request gives no way through', async () => {
    const asked = await pay({ amountMicros: 5, to: 'acme' });
    const id = asked.details!.approvalId!;
    const denied = await t.request('POST', `/v1/approvals/${id}/deny`, { body: { note: 'not this quarter' } });
    expect(denied.json.status).toBe('denied');
    const tried = await pay({ amountMicros: 5, to: 'acme' }, denied.json.token);
    expect([tried.executed, tried.code]).toEqual([false, 'approval_invalid']);
    expect((await t.request('POST', '/v1/approvals/apr_nope/approve')).json.error.code).toBe('not_found');
  });

  /** Moves the clock (Date only: timers and I/O run as usual) `ms` ahead of now. */
  const later = (ms: number) => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + ms);
  };
  const approvalEvents = async () => (await t.request('GET', '/v1/streams/approvals/events')).json.events.map((e: { type: string }) => e.type);
  const spent = () => t.database.db.selectFrom('credentials').select('spent_micros').executeTakeFirstOrThrow();

  it('an approval not used within 15 minutes of the decision is refused, and nothing is done or used up', async () => {
    const args = { amountMicros: 1_000_000, to: 'acme', memo: 'invoice 9' };
    const id = (await pay(args)).details!.approvalId!;
    const approval = (await t.request('POST', `/v1/approvals/${id}/approve`)).json.token as string;
    const decided = await row(id);
    const events = await approvalEvents();
    const spentBefore = await spent();

    later(15 * 60_000 + 10_000); // past the decision's validity and the 5 s of clock tolerance
    const tried = await pay(args, approval);
    expect([tried.executed, tried.code]).toEqual([false, 'approval_invalid']);
    expect(await row(id)).toEqual(decided); // still approved, not used
    expect(await approvalEvents()).toEqual(events);
    expect(await spent()).toEqual(spentBefore);
  });

  it('a request nobody decided within 24 hours expires and can no longer be approved', async () => {
    const args = { amountMicros: 1_000_000, to: 'acme', memo: 'invoice 10' };
    const id = (await pay(args)).details!.approvalId!;
    later(24 * 3600_000 + 1000);

    const approve = await t.request('POST', `/v1/approvals/${id}/approve`, { body: { note: 'too late' } });
    expect([approve.status, approve.json.error.code]).toEqual([409, 'conflict']);
    expect(approve.json.error.message).toContain('expired');
    expect(await row(id)).toMatchObject({ status: 'expired', decided_by: null, decision_token: null, note: null });
    expect(await approvalEvents()).toEqual(['approval.requested']);
    expect((await t.request('POST', `/v1/approvals/${id}/deny`)).json.error.code).toBe('conflict');
    expect((await t.request('GET', `/v1/approvals/${id}`)).json).toMatchObject({ status: 'expired', token: null });
  });

  it('records the request and the decision in the journal', async () => {
    const id = (await pay({ amountMicros: 5, to: 'acme' })).details!.approvalId!;
    await t.request('POST', `/v1/approvals/${id}/approve`);
    const events = (await t.request('GET', '/v1/streams/approvals/events')).json.events;
    expect(events.map((e: { type: string }) => e.type)).toEqual(['approval.requested', 'approval.approved']);
    expect(events[1].payload.record).toMatchObject({ kind: 'payment.create', resource: 'acme', decision: 'approved' });
  });
});
