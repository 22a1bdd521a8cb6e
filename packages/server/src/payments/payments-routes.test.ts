import { generateKeyPairSync, sign } from 'node:crypto';
import { MandateTerms } from '@hangar/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test-app.js';
import { newId } from '../util/ids.js';
import { mandateSigningBytes } from './payments-service.js';

const DOLLAR = 1_000_000;
const alice = generateKeyPairSync('ed25519');

/** POST /v1/payments as a payment.create action: Cedar, intent, approvals and the record, over HTTP on SQLite. */
describe('payments as actions', () => {
  let t: TestApp;
  let agentId: string;
  let token: string;
  let mandateId: string;

  beforeEach(async () => {
    t = await createTestApp();
    agentId = (await t.request('POST', '/v1/agents', { body: { name: 'buyer', owner: 'ops' } })).json.id;
    token = await credential(agentId);
    const limits = await t.request('PUT', `/v1/payments/limits/${agentId}`, {
      body: { perTransactionMicros: 50 * DOLLAR, perDayMicros: 80 * DOLLAR, approvalOverMicros: 40 * DOLLAR },
    });
    expect(limits.status, limits.text).toBe(200);
    const signerId = (await t.request('POST', '/v1/mandates/signers', { body: { name: 'alice', publicKey: alice.publicKey.export({ format: 'jwk' }).x } })).json.id;
    const terms = MandateTerms.parse({
      signerId,
      agentId,
      amountCapMicros: 100 * DOLLAR,
      currency: 'USD',
      payees: ['shop:books'],
      merchantCategories: null,
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      use: 'multiple',
      nonce: newId('n'),
    });
    const mandate = await t.request('POST', '/v1/mandates', { body: { terms, signature: sign(null, mandateSigningBytes(terms), alice.privateKey).toString('base64url') } });
    expect(mandate.status, mandate.text).toBe(201);
    mandateId = mandate.json.id;
  });
  afterEach(async () => {
    await t.close();
  });

  async function credential(agent: string, extra: Record<string, unknown> = {}) {
    const res = await t.request('POST', `/v1/agents/${agent}/credentials`, {
      body: { actingFor: { type: 'user', id: 'alice' }, scopes: { models: [], tools: [], actions: ['payment.create'] }, spendCapMicros: 0, ...extra },
    });
    expect(res.status, res.text).toBe(201);
    return res.json.token as string;
  }
  const policy = async (name: string, text: string) => {
    const res = await t.request('POST', '/v1/policies', { body: { name, text } });
    expect(res.status, res.text).toBe(201);
    return res.json.id as string;
  };
  const pay = (amount: number, key: string, options: { purpose?: string; as?: string; approval?: string; agent?: string } = {}) =>
    t.request('POST', '/v1/payments', {
      key: options.as ?? token,
      headers: options.approval ? { 'x-hangar-approval': options.approval } : {},
      body: { agentId: options.agent ?? agentId, mandateId, payee: 'shop:books', amountMicros: amount, purpose: options.purpose ?? 'a book', idempotencyKey: key },
    });
  /** The money side of the project: what a refused payment must leave exactly as it was. */
  const books = async () => {
    const db = t.database.db;
    const [payments, transfers, mandates, approvals, rail] = await Promise.all([
      db.selectFrom('payments').selectAll().orderBy('id').execute(),
      db.selectFrom('ledger_transfers').selectAll().orderBy('id').execute(),
      db.selectFrom('mandates').selectAll().orderBy('id').execute(),
      db.selectFrom('approvals').selectAll().orderBy('id').execute(),
      db.selectFrom('sandbox_rail_entries').selectAll().execute(),
    ]);
    return JSON.stringify({ payments, transfers, mandates, approvals, rail });
  };
  const actionEvents = async () => (await t.request('GET', `/v1/streams/actions:agent:${agentId}/events`)).json.events as Array<{ type: string; payload: Record<string, any> }>; // eslint-disable-line @typescript-eslint/no-explicit-any

  it('is denied by default, a permit lets it through, a forbid wins; each decision recorded with the chain and the policies that made it', async () => {
    const before = await books();
    const denied = await pay(5 * DOLLAR, 'p1');
    expect([denied.status, denied.json.error.code]).toEqual([403, 'policy_denied']);
    expect(await books()).toBe(before);
    expect((await actionEvents()).at(-1)).toMatchObject({ type: 'action.denied', payload: { kind: 'payment.create', resource: 'shop:books', decision: { effect: 'deny', policyIds: [] } } });

    const permit = await policy('books', 'permit(principal in User::"alice", action == Action::"payment.create", resource == Payee::"shop:books") when { context.amount <= 50000000 };');
    const paid = await pay(5 * DOLLAR, 'p1');
    expect([paid.status, paid.json.status], paid.text).toEqual([201, 'captured']);
    const ok = (await actionEvents()).at(-1)!;
    expect(ok).toMatchObject({
      type: 'action.ok',
      payload: {
        kind: 'payment.create',
        actor: { principals: [{ type: 'user', id: 'alice' }, { type: 'agent', id: agentId }] },
        decision: { effect: 'allow', policyIds: [permit] },
        args: { amountMicros: 5 * DOLLAR, idempotencyKey: 'p1' },
      },
    });

    // a replay answers from the first payment: no second action, no money moved
    const events = (await actionEvents()).length;
    const paidBooks = await books();
    expect((await pay(5 * DOLLAR, 'p1')).json.id).toBe(paid.json.id);
    expect([(await actionEvents()).length, await books()]).toEqual([events, paidBooks]);

    // the arguments reach Cedar, and a forbid beats the permit
    const forbid = await policy('no-gift-cards', 'forbid(principal, action == Action::"payment.create", resource) when { context.arguments.hasTag("purpose") && context.arguments.getTag("purpose") like "*gift card*" };');
    const gift = await pay(5 * DOLLAR, 'p2', { purpose: 'a gift card' });
    expect([gift.status, gift.json.error.code, gift.json.error.details.policyIds]).toEqual([403, 'policy_denied', [forbid]]);
    expect(await books()).toBe(paidBooks);
  });

  it('a credential pays only as its own agent, and only within its declared intent; nothing is written', async () => {
    await policy('all', 'permit(principal, action == Action::"payment.create", resource);');
    const before = await books();
    const other = (await t.request('POST', '/v1/agents', { body: { name: 'other', owner: 'ops' } })).json.id as string;
    const asOther = await pay(1 * DOLLAR, 'p1', { as: await credential(other) });
    expect([asOther.status, asOther.json.error.code]).toEqual([403, 'forbidden']);

    const readOnly = await pay(1 * DOLLAR, 'p2', { as: await credential(agentId, { intent: { readOnly: true } }) });
    expect([readOnly.status, readOnly.json.error.code, readOnly.json.error.details.violation]).toEqual([403, 'intent_violation', 'readOnly']);
    const capped = await pay(2 * DOLLAR, 'p3', { as: await credential(agentId, { intent: { maxSpendMicros: DOLLAR } }) });
    expect([capped.status, capped.json.error.code, capped.json.error.details.violation]).toEqual([403, 'intent_violation', 'maxSpendMicros']);
    expect(await books()).toBe(before);
    expect((await actionEvents()).at(-1)!.payload).toMatchObject({ intentViolation: { rule: 'maxSpendMicros' } });
  });

  it('over the approval threshold: asks; the approval lets exactly that payment through once and is refused for other arguments or a replay, with nothing written', async () => {
    await policy('all', 'permit(principal, action == Action::"payment.create", resource);');
    const noMoney = await books();
    const asked = await pay(45 * DOLLAR, 'big');
    expect([asked.status, asked.json.error.code]).toEqual([403, 'approval_required']);
    const approvalId = asked.json.error.details.approvalId as string;
    const pending = (await t.request('GET', `/v1/approvals/${approvalId}`)).json;
    expect(pending).toMatchObject({ status: 'pending', kind: 'payment.create', resource: 'shop:books', costMicros: 45 * DOLLAR });
    expect(pending.reason).toContain('need approval');
    expect(JSON.parse(noMoney).payments).toEqual(JSON.parse(await books()).payments); // asked, nothing paid
    expect((await pay(45 * DOLLAR, 'big')).json.error.details.approvalId).toBe(approvalId); // asking again does not ask twice

    const approved = await t.request('POST', `/v1/approvals/${approvalId}/approve`, { body: { note: 'known shop' } });
    expect(approved.status, approved.text).toBe(200);
    const approval = (await t.request('GET', `/v1/approvals/${approvalId}`, { key: token })).json.token as string;

    const decided = await books();
    const otherArgs = await pay(45 * DOLLAR, 'big', { purpose: 'another book', approval });
    expect([otherArgs.status, otherArgs.json.error.code]).toEqual([403, 'approval_invalid']);
    const otherAmount = await pay(46 * DOLLAR, 'big-2', { approval });
    expect([otherAmount.status, otherAmount.json.error.code]).toEqual([403, 'approval_invalid']);
    expect(await books()).toBe(decided);

    const paid = await pay(45 * DOLLAR, 'big', { approval });
    expect([paid.status, paid.json.status], paid.text).toEqual([201, 'captured']);
    expect((await t.request('GET', `/v1/approvals/${approvalId}`)).json.status).toBe('used');
    expect((await actionEvents()).at(-1)!.payload).toMatchObject({ decision: { effect: 'require_approval' }, approved: true });

    // the same request again is an idempotent replay; the used approval on a new payment is refused
    const used = await books();
    expect((await pay(45 * DOLLAR, 'big', { approval })).json.id).toBe(paid.json.id);
    const replayed = await pay(45 * DOLLAR, 'big-3', { approval });
    expect([replayed.status, replayed.json.error.code]).toEqual([403, 'approval_invalid']);
    expect(await books()).toBe(used);
  });

  it('two requests with one idempotency key at once: one payment, and one action record, the one that paid', async () => {
    await policy('all', 'permit(principal, action == Action::"payment.create", resource);');
    const before = (await actionEvents()).length;
    const [a, b] = await Promise.all([pay(3 * DOLLAR, 'twin'), pay(3 * DOLLAR, 'twin')]);
    expect(b.status, b.text).toBe(a.status);
    expect(b.json.id).toBe(a.json.id);
    const records = (await actionEvents()).slice(before);
    expect(records.map((e) => [e.type, e.payload.paymentId])).toEqual([['action.ok', a.json.id]]);
    expect(await t.database.db.selectFrom('payments').select('id').execute()).toHaveLength(1);
  });
});
