import { generateKeyPairSync, sign } from 'node:crypto';
import { createClient, HangarError } from '@hangar/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './harness.js';

const DOLLAR = 1_000_000;
let server: TestServer | undefined;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

/** An agent pays with its own credential through the SDK, under policy, a mandate and a human's approval. */
describe('an agent paying with the SDK', () => {
  it('is refused until a person approves, then pays once with the approval; the ledger verifies', async () => {
    const admin = createClient({ baseUrl: server!.url, apiKey: server!.adminKey });
    const buyer = await admin.agents.create({ name: 'buyer', owner: 'ops' });
    const { token } = await admin.agents.issueCredential(buyer.id, {
      actingFor: { type: 'user', id: 'alice' },
      scopes: { actions: ['payment.create'] },
      spendCapMicros: 0,
    });
    await admin.payments.setLimits(buyer.id, { perTransactionMicros: 100 * DOLLAR, approvalOverMicros: 20 * DOLLAR });
    await admin.policies.create({ name: 'alice-pays', text: 'permit(principal in User::"alice", action == Action::"payment.create", resource);' });
    const human = generateKeyPairSync('ed25519');
    const signer = await admin.mandates.registerSigner({ name: 'alice', publicKey: human.publicKey.export({ format: 'jwk' }).x! });
    const terms = {
      signerId: signer.id, agentId: buyer.id, amountCapMicros: 100 * DOLLAR, currency: 'USD', payees: ['airline'],
      merchantCategories: null, expiresAt: new Date(Date.now() + 3_600_000).toISOString(), use: 'multiple' as const, nonce: 'trip-0001',
    };
    const canonical = JSON.stringify(Object.fromEntries(Object.entries(terms).sort(([a], [b]) => a.localeCompare(b))));
    const mandate = await admin.mandates.create({ terms, signature: sign(null, Buffer.from(canonical), human.privateKey).toString('base64url') });

    const agent = createClient({ baseUrl: server!.url, apiKey: token });
    const request = { agentId: buyer.id, mandateId: mandate.id, payee: 'airline', amountMicros: 45 * DOLLAR, purpose: 'flight to Lisbon', idempotencyKey: 'trip-1:flight' };
    const asked = await agent.payments.create(request).catch((e: unknown) => e);
    expect(asked).toBeInstanceOf(HangarError);
    expect((asked as HangarError).code).toBe('approval_required');
    const approvalId = ((asked as HangarError).details as { approvalId: string }).approvalId;

    const approved = await admin.approvals.approve(approvalId, 'booked trip');
    expect(approved.status).toBe('approved');
    const approval = (await agent.approvals.get(approvalId)).token!;
    const paid = await agent.payments.create(request, { approval });
    expect(paid).toMatchObject({ status: 'captured', agentId: buyer.id, amountMicros: 45 * DOLLAR });
    expect((await admin.mandates.list()).mandates[0]).toMatchObject({ remainingMicros: 55 * DOLLAR });

    // the approval was for that payment only
    const again = await agent.payments.create({ ...request, idempotencyKey: 'trip-1:hotel', payee: 'airline' }, { approval }).catch((e: unknown) => e);
    expect((again as HangarError).code).toBe('approval_invalid');
    expect((await admin.payments.list()).payments).toHaveLength(1);
    expect(await admin.ledger.verify()).toMatchObject({ ok: true, problems: [] });
  }, 60_000);
});
