import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test-app.js';

describe('ledger and budgets over HTTP', () => {
  let t: TestApp;
  let member: string;
  let readOnly: string;
  let funding: string;
  let wallet: string;

  beforeAll(async () => {
    t = await createTestApp();
    member = (await t.request('POST', '/v1/keys', { body: { name: 'agent', role: 'member' } })).json.key;
    readOnly = (await t.request('POST', '/v1/keys', { body: { name: 'viewer', role: 'read-only' } })).json.key;
    funding = (await t.request('POST', '/v1/ledger/accounts', { body: { kind: 'funding_source', name: 'card', currency: 'USD' } })).json.id;
    wallet = (await t.request('POST', '/v1/ledger/accounts', { body: { kind: 'agent', name: 'w', currency: 'USD', minBalanceMicros: 0 } })).json.id;
  });
  afterAll(async () => {
    await t.close();
  });

  it('replays a transfer request with the same key, saying so, and refuses the key with another body', async () => {
    const body = { transfers: [{ debitAccountId: funding, creditAccountId: wallet, amountMicros: 5_000_000, idempotencyKey: 'fund-1' }] };
    const first = await t.request('POST', '/v1/ledger/transfers', { body, key: member });
    const again = await t.request('POST', '/v1/ledger/transfers', { body, key: member });
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json).toEqual(first.json);
    const changed = { transfers: [{ ...body.transfers[0], amountMicros: 1 }] };
    const conflict = await t.request('POST', '/v1/ledger/transfers', { body: changed, key: member });
    expect([conflict.status, conflict.json.error.code]).toEqual([409, 'idempotency_conflict']);
    expect((await t.request('GET', `/v1/ledger/accounts/${wallet}`)).json.balanceMicros).toBe(5_000_000);
  });

  it('holds, posts and voids over HTTP; a refusal is insufficient_balance with what is available', async () => {
    const hold = await t.request('POST', '/v1/ledger/holds', {
      key: member,
      body: { debitAccountId: wallet, creditAccountId: funding, amountMicros: 4_000_000, timeoutMs: 60_000, idempotencyKey: 'h-1' },
    });
    expect([hold.status, hold.json.status]).toEqual([201, 'pending']);
    const refused = await t.request('POST', '/v1/ledger/holds', {
      key: member,
      body: { debitAccountId: wallet, creditAccountId: funding, amountMicros: 2_000_000, timeoutMs: 60_000, idempotencyKey: 'h-2' },
    });
    expect([refused.status, refused.json.error.code, refused.json.error.details.availableMicros]).toEqual([409, 'insufficient_balance', 1_000_000]);
    const posted = await t.request('POST', `/v1/ledger/holds/${hold.json.id}/post`, { key: member, body: { amountMicros: 1_500_000 } });
    expect(posted.json.resolution.amountMicros).toBe(1_500_000);
    expect((await t.request('GET', `/v1/ledger/accounts/${wallet}`)).json).toMatchObject({ balanceMicros: 3_500_000, availableMicros: 3_500_000 });
    const again = await t.request('POST', `/v1/ledger/holds/${hold.json.id}/void`, { key: member });
    expect([again.status, again.json.error.code]).toEqual([409, 'conflict']);
    const report = await t.request('POST', '/v1/ledger/verify', { key: readOnly });
    expect(report.json).toMatchObject({ ok: true, problems: [] });
  });

  it('lists transfers of an account, page by page', async () => {
    const first = await t.request('GET', `/v1/ledger/transfers?accountId=${wallet}&limit=2`, { key: readOnly });
    expect(first.json.transfers).toHaveLength(2);
    const rest = await t.request('GET', `/v1/ledger/transfers?accountId=${wallet}&limit=2&cursor=${first.json.nextCursor}`, { key: readOnly });
    expect(rest.json.transfers.map((x: { kind: string }) => x.kind)).toEqual(['post_pending']);
    expect(rest.json.nextCursor).toBeNull();
  });

  it('rejects bad input with documented codes and changes nothing', async () => {
    const cases: Array<[unknown, string]> = [
      [{ transfers: [{ debitAccountId: funding, creditAccountId: wallet, amountMicros: 1.5, idempotencyKey: 'x' }] }, 'validation_failed'],
      [{ transfers: [{ debitAccountId: funding, creditAccountId: wallet, amountMicros: -1, idempotencyKey: 'x' }] }, 'validation_failed'],
      [{ transfers: [{ debitAccountId: funding, creditAccountId: wallet, amountMicros: 1 }] }, 'validation_failed'],
      [{ transfers: [] }, 'validation_failed'],
      ['{"transfers":', 'invalid_json'],
    ];
    for (const [body, code] of cases) {
      const res = await t.request('POST', '/v1/ledger/transfers', { key: member, body });
      expect([res.status, res.json.error.code]).toEqual([400, code]);
    }
    const bad = await t.request('POST', '/v1/budgets', { body: { name: 'x', scope: 'agent', scopeId: 'a', limitMicros: 1, timeZone: 'Mars/Olympus' } });
    expect(bad.json.error.code).toBe('validation_failed');
    expect((await t.request('GET', '/v1/budgets')).json.budgets).toEqual([]);
  });

  it('lets only the roles with the permission act', async () => {
    const asReader = await t.request('POST', '/v1/ledger/transfers', {
      key: readOnly,
      body: { transfers: [{ debitAccountId: funding, creditAccountId: wallet, amountMicros: 1, idempotencyKey: 'ro' }] },
    });
    expect(asReader.json.error.code).toBe('forbidden');
    const budgetAsMember = await t.request('POST', '/v1/budgets', { key: member, body: { name: 'x', scope: 'agent', scopeId: 'a', limitMicros: 1 } });
    expect(budgetAsMember.json.error.code).toBe('forbidden');
  });

  it('reserves and settles a model call against its budgets; budget_exceeded names the budget', async () => {
    const created = await t.request('POST', '/v1/budgets', {
      body: { name: 'agent a', scope: 'agent', scopeId: 'agt_a', period: 'daily', timeZone: 'Europe/Paris', limitMicros: 100_000 },
    });
    expect(created.status).toBe(201);
    expect(created.json.webhookSecret).toBeNull(); // no webhook url, no secret
    const chain = [{ scope: 'run', id: 'run_9' }, { scope: 'agent', id: 'agt_a' }];
    const r = await t.request('POST', '/v1/budgets/reserve', { key: member, body: { chain, amountMicros: 80_000, idempotencyKey: 'run_9:1' } });
    expect([r.status, r.json.holdIds.length]).toEqual([201, 1]);
    const refused = await t.request('POST', '/v1/budgets/reserve', { key: member, body: { chain, amountMicros: 30_000, idempotencyKey: 'run_9:2' } });
    expect([refused.status, refused.json.error.code]).toEqual([402, 'budget_exceeded']);
    expect(refused.json.error.details).toMatchObject({ budget: { id: created.json.id, name: 'agent a' }, remainingMicros: 20_000 });
    const s = await t.request('POST', '/v1/budgets/settle', { key: member, body: { holdIds: r.json.holdIds, actualMicros: 12_345 } });
    expect(s.json.settled[0]).toMatchObject({ postedMicros: 12_345, releasedMicros: 67_655 });
    const budget = await t.request('GET', `/v1/budgets/${created.json.id}`, { key: readOnly });
    expect(budget.json.current).toMatchObject({ postedMicros: 12_345, pendingMicros: 0, remainingMicros: 87_655 });
  });
});
