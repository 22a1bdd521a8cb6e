import { pino } from 'pino';
import { createActionPipeline } from './actions/action-pipeline.js';
import { createApp } from './app.js';
import { createApprovals } from './approvals/approvals-service.js';
import { createWebhookSender } from './approvals/webhooks.js';
import { createIdentity } from './identity/identity-service.js';
import { createSigningKeys } from './identity/signing-keys.js';
import { cedarPolicyStage, credentialSpendStage } from './policy/policy-stage.js';
import { createPolicies } from './policy/policy-service.js';
import { createBlobStore } from './blobs/blob-store.js';
import { openTestDatabase, type TestDialect } from './db/test-databases.js';
import { createJournal } from './journal/journal-service.js';
import { createTenancy } from './tenancy/tenancy-service.js';
import { createTraces } from './traces/traces-service.js';

export const ADMIN_KEY = 'hk_' + 'A'.repeat(32);

/** A full app on a fresh test database, bootstrapped with ADMIN_KEY; `request` adds the key. */
export async function createTestApp(dialect: TestDialect = 'sqlite', options: { maxBodyBytes?: number } = {}) {
  const database = await openTestDatabase(dialect);
  const blobs = createBlobStore({ dir: database.blobDir });
  const journal = createJournal({ db: database.db, blobs });
  const traces = createTraces({ db: database.db, blobs });
  const tenancy = createTenancy({ db: database.db, journal });
  const signingKeys = createSigningKeys({ db: database.db });
  const identity = createIdentity({ db: database.db, journal, signingKeys });
  const policies = createPolicies({ db: database.db, journal });
  const approvals = createApprovals({ db: database.db, journal, signingKeys, webhooks: createWebhookSender({ retryDelaysMs: [50, 100, 200] }) });
  const actions = createActionPipeline({
    db: database.db,
    journal,
    stages: [cedarPolicyStage({ policies, identity, approvals: approvals.gate }), credentialSpendStage(identity)],
  });
  await tenancy.bootstrap({ adminKey: ADMIN_KEY });
  const app = createApp({
    database,
    journal,
    tenancy,
    traces,
    actions,
    identity,
    policies,
    approvals,
    logger: pino({ level: process.env.HANGAR_TEST_LOG ?? 'silent' }),
    webDir: null,
    maxBodyBytes: options.maxBodyBytes,
  });

  async function request(
    method: string,
    path: string,
    options: { key?: string | null; body?: unknown; headers?: Record<string, string> } = {},
  ) {
    const headers: Record<string, string> = { ...options.headers };
    const key = options.key === undefined ? ADMIN_KEY : options.key;
    if (key) headers.authorization = `Bearer ${key}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await app.request(path, { method, headers, body });
    const text = await res.text();
    let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  }

  return { app, database, journal, tenancy, traces, actions, identity, signingKeys, policies, approvals, request, close: () => database.close() };
}

export type TestApp = Awaited<ReturnType<typeof createTestApp>>;
