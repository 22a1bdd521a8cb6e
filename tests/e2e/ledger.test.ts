import { execFile } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createClient, HangarError } from '@hangar/sdk';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startServer } from './harness.js';

const HANGAR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../packages/cli/bin/hangar.js');
const PG_URL = process.env.HANGAR_TEST_PG_URL;
const CENT = 10_000;
const DOLLAR = 1_000_000;
const schemas: string[] = [];

/** Each test's schema is dropped as soon as the test ends. */
async function dropSchemas() {
  if (!PG_URL || schemas.length === 0) return;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  for (const s of schemas.splice(0)) await c.query(`drop schema if exists ${s} cascade`);
  await c.end();
}
afterEach(dropSchemas);
afterAll(dropSchemas);

async function pgEnv(): Promise<Record<string, string>> {
  const schema = `ledger_${process.pid}_${Date.now()}`;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`create schema ${schema}`);
  await c.end();
  schemas.push(schema);
  const url = new URL(PG_URL!);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { HANGAR_DATABASE_URL: url.toString() };
}

const targets = [{ name: 'sqlite', env: async () => ({}) }, ...(PG_URL ? [{ name: 'postgres', env: pgEnv }] : [])];

async function cliJson<T>(url: string, key: string, args: string[]): Promise<T> {
  const { stdout } = await promisify(execFile)(process.execPath, [HANGAR, ...args, '--json'], {
    env: { ...process.env, HANGAR_URL: url, HANGAR_API_KEY: key },
  }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
  return JSON.parse(stdout) as T;
}

/** The API over plain HTTP, for the routes the SDK does not wrap (mandates, payments). */
function api(url: string, key: string) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
}

async function ledgerVerify(url: string, key: string) {
  const { stdout } = await promisify(execFile)(process.execPath, [HANGAR, 'ledger', 'verify', '--json'], {
    env: { ...process.env, HANGAR_URL: url, HANGAR_API_KEY: key },
  });
  return JSON.parse(stdout) as { ok: boolean; problems: unknown[]; openHolds: number };
}

for (const target of targets) {
  describe(`budgets on ${target.name}, 4 server processes`, () => {
    it('500 concurrent reservations of $0.01 against $1.00: exactly 100 succeed, the rest get budget_exceeded', async () => {
      const env = await target.env();
      const dataDir = mkdtempSync(path.join(tmpdir(), 'hangar-ledger-'));
      const servers = await Promise.all([1, 2, 3, 4].map(() => startServer({ env, dataDir })));
      try {
        const clients = servers.map((s) => createClient({ baseUrl: s.url, apiKey: s.adminKey }));
        const { project } = await clients[0]!.whoami();
        const budget = await clients[0]!.budgets.create({ name: 'one dollar', scope: 'project', scopeId: project.id, limitMicros: DOLLAR });
        const chain = [{ scope: 'run' as const, id: 'run_1' }, { scope: 'project' as const, id: project.id }];

        const outcomes = await Promise.all(
          Array.from({ length: 500 }, (_, i) =>
            clients[i % 4]!.budgets
              .reserve({ chain, amountMicros: CENT, idempotencyKey: `call-${i}` })
              .then((r) => ({ ok: true as const, holdIds: r.holdIds }))
              .catch((e: unknown) => ({ ok: false as const, code: e instanceof HangarError ? e.code : String(e) })),
          ),
        );
        const won = outcomes.flatMap((o) => (o.ok ? [o] : []));
        const refused = outcomes.flatMap((o) => (o.ok ? [] : [o.code]));
        expect(won).toHaveLength(100);
        expect(refused).toEqual(Array(400).fill('budget_exceeded'));

        await Promise.all(won.map((w, i) => clients[i % 4]!.budgets.settle({ holdIds: w.holdIds, actualMicros: CENT })));
        // replaying a reservation changes nothing
        const replay = await clients[1]!.budgets.reserve({ chain, amountMicros: CENT, idempotencyKey: `call-${outcomes.indexOf(won[0]!)}` });
        expect(replay.holdIds).toEqual(won[0]!.holdIds);

        const after = await clients[2]!.budgets.get(budget.id);
        expect(after.current).toMatchObject({ postedMicros: DOLLAR, pendingMicros: 0, remainingMicros: 0 });
        expect(after.current.postedMicros).toBeLessThanOrEqual(DOLLAR);
        expect(await ledgerVerify(servers[3]!.url, servers[3]!.adminKey)).toMatchObject({ ok: true, problems: [], openHolds: 0 });
      } finally {
        await Promise.all(servers.map((s, i) => s.stop({ keepData: i < 3 })));
      }
    }, 120_000);

    it('a server killed between reserve and post leaves a hold that the sweeper voids, with zero drift', async () => {
      const env = { ...(await target.env()), HANGAR_HOLD_SWEEP_INTERVAL_MS: '200' };
      const first = await startServer({ env });
      const hangar = createClient({ baseUrl: first.url, apiKey: first.adminKey });
      const { project } = await hangar.whoami();
      const budget = await hangar.budgets.create({ name: 'b', scope: 'project', scopeId: project.id, limitMicros: DOLLAR });
      const reservation = await hangar.budgets.reserve({
        chain: [{ scope: 'project', id: project.id }],
        amountMicros: 70 * CENT,
        timeoutMs: 2000,
        idempotencyKey: 'doomed',
      });
      expect((await hangar.budgets.get(budget.id)).current.remainingMicros).toBe(30 * CENT);
      await first.kill('SIGKILL');

      const second = await startServer({ env, dataDir: first.dataDir });
      try {
        const again = createClient({ baseUrl: second.url, apiKey: second.adminKey });
        const holdId = reservation.holdIds[0]!;
        const deadline = Date.now() + 15_000;
        while ((await again.ledger.getHold(holdId)).status === 'pending' && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
        }
        expect((await again.ledger.getHold(holdId)).status).toBe('expired');
        expect((await again.budgets.get(budget.id)).current).toMatchObject({ pendingMicros: 0, postedMicros: 0, remainingMicros: DOLLAR });
        expect(await ledgerVerify(second.url, second.adminKey)).toMatchObject({ ok: true, problems: [], openHolds: 0 });
        // the late settle of the dead process's call is refused, not charged twice or past the limit
        await expect(again.budgets.settle({ holdIds: [holdId], actualMicros: CENT })).rejects.toMatchObject({ code: 'conflict' });
      } finally {
        await second.stop();
      }
    }, 90_000);

    it('a server killed between the rail capture and the ledger post: on restart the payment is posted and the books reconcile with zero drift', async () => {
      const env = await target.env();
      const first = await startServer({ env: { ...env, HANGAR_SANDBOX_RAIL_CRASH_AFTER_CAPTURE: '1' } });
      const call = api(first.url, first.adminKey);
      const human = generateKeyPairSync('ed25519');
      const signer = (await call('POST', '/v1/mandates/signers', { name: 'alice', publicKey: human.publicKey.export({ format: 'jwk' }).x })).json;
      const terms = {
        signerId: signer.id, agentId: 'agt_buyer', amountCapMicros: 100 * DOLLAR, currency: 'USD', payees: ['shop:books'],
        merchantCategories: null, expiresAt: new Date(Date.now() + 3_600_000).toISOString(), use: 'multiple', nonce: 'crash-test-1',
      };
      const canonical = JSON.stringify(Object.fromEntries(Object.entries(terms).sort(([a], [b]) => a.localeCompare(b))));
      const mandate = (await call('POST', '/v1/mandates', { terms, signature: sign(null, Buffer.from(canonical), human.privateKey).toString('base64url') })).json;
      expect(mandate, JSON.stringify(mandate)).toMatchObject({ id: expect.stringMatching(/^mdt_/) });
      expect((await call('PUT', '/v1/payments/limits/agt_buyer', { perTransactionMicros: 50 * DOLLAR, perDayMicros: 80 * DOLLAR })).status).toBe(200);
      // payments are denied unless a policy permits them
      expect((await call('POST', '/v1/policies', { name: 'books', text: 'permit(principal, action == Action::"payment.create", resource == Payee::"shop:books");' })).status).toBe(201);

      // The sandbox rail captures the money and the server dies at once, before the ledger hears of it.
      const payment = { agentId: 'agt_buyer', mandateId: mandate.id, payee: 'shop:books', amountMicros: 7 * DOLLAR, purpose: 'a book', idempotencyKey: 'order-1' };
      await expect(call('POST', '/v1/payments', payment)).rejects.toThrow();
      await first.kill('SIGKILL');
      expect(first.process.signalCode).toBe('SIGKILL');

      const second = await startServer({ env: { ...env, HANGAR_PAYMENT_RECOVERY_GRACE_MS: '0' }, dataDir: first.dataDir });
      try {
        const again = api(second.url, second.adminKey);
        const [recovered] = (await again('GET', '/v1/payments')).json.payments;
        expect(recovered).toMatchObject({ status: 'captured', amountMicros: 7 * DOLLAR, idempotencyKey: 'order-1' });
        // the client's retry gets the recovered payment, not a second charge
        expect((await again('POST', '/v1/payments', payment)).json).toMatchObject({ id: recovered.id, status: 'captured' });
        expect((await again('GET', '/v1/mandates')).json.mandates[0]).toMatchObject({ remainingMicros: 93 * DOLLAR });
        // the payment's action, which the killed server never recorded, is recorded by the recovery — once
        const [stream] = (await again('GET', '/v1/streams?prefix=actions:')).json.streams;
        const events = (await again('GET', `/v1/streams/${encodeURIComponent(stream.stream)}/events`)).json.events;
        expect(events.filter((e: { payload: { kind: string } }) => e.payload.kind === 'payment.create')).toEqual([
          expect.objectContaining({ type: 'action.ok', payload: expect.objectContaining({ paymentId: recovered.id, recovered: true }) }),
        ]);
        expect(await ledgerVerify(second.url, second.adminKey)).toMatchObject({ ok: true, problems: [], openHolds: 0 });
        expect(await cliJson(second.url, second.adminKey, ['ledger', 'reconcile'])).toMatchObject({
          ok: true,
          rails: [{ rail: 'sandbox', payments: 1, statementEntries: 1, ledgerMicros: 7 * DOLLAR, railMicros: 7 * DOLLAR, differenceMicros: 0 }],
          differences: [],
        });
      } finally {
        await second.stop();
      }
    }, 90_000);
  });
}
