import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import { newId } from '../util/ids.js';
import { createWebhookStore } from './webhook-store.js';

export interface WebhooksOptions {
  db: Kysely<Database>;
  logger?: Logger;
  now?: () => number;
  /** Give up after this many attempts (default 8: about 4 minutes of backoff). */
  maxAttempts?: number;
  /** Wait before attempt n+1: base × 2^(n-1), capped at 5 minutes. Default 1000 ms. */
  backoffBaseMs?: number;
  /** Per attempt (default 10 s). */
  timeoutMs?: number;
}

const LEASE_MS = 60_000;

/**
 * `hangar-signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>`.
 * @example signature('whsec_…', '{"type":"budget.threshold"}', 1764064800)
 */
export function signature(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * Checks a `hangar-signature` header against the raw body, as a receiver should: in constant time,
 * refusing a timestamp more than `toleranceS` away from now (a replay).
 * @example verifySignature(secret, rawBody, req.headers['hangar-signature'])
 */
export function verifySignature(secret: string, body: string, header: string, toleranceS = 300, now = Date.now()): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(now / 1000 - t) > toleranceS || !parts.v1) return false;
  const expected = Buffer.from(signature(secret, body, t).split('v1=')[1]!, 'hex');
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Outgoing webhooks — every one Hangar sends (approvals, budget thresholds): an outbox in the store,
 * written in the transaction of the event it tells of, delivered by whichever process claims it (the
 * sweeper of every server, or a nudge right after the event), retried with backoff across restarts.
 */
export function createWebhooks(options: WebhooksOptions) {
  const { db } = options;
  const now = options.now ?? Date.now;
  const maxAttempts = options.maxAttempts ?? 8;
  const backoff = options.backoffBaseMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  let running: Promise<number> | null = null;

  async function deliverOne(row: Awaited<ReturnType<ReturnType<typeof createWebhookStore>['due']>>[number]) {
    const store = createWebhookStore(db);
    const t = Math.floor(now() / 1000);
    let error: string | null = null;
    try {
      const res = await fetch(row.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'hangar-event': row.event_type,
          'hangar-delivery': row.id,
          'hangar-signature': signature(row.secret, row.body, t),
        },
        body: row.body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.body?.cancel();
      if (!res.ok) error = `HTTP ${res.status}`;
    } catch (e) {
      error = (e as Error).message;
    }
    const attempts = row.attempts + 1;
    const at = new Date(now()).toISOString();
    if (error === null) {
      await store.finish(row.id, { attempts, deliveredAt: at, nextAttemptAt: null, lastError: null });
      return true;
    }
    const next = attempts >= maxAttempts ? null : new Date(now() + Math.min(backoff * 2 ** (attempts - 1), 300_000)).toISOString();
    await store.finish(row.id, { attempts, deliveredAt: null, nextAttemptAt: next, lastError: error });
    options.logger?.warn({ deliveryId: row.id, url: row.url, attempts, error, givingUp: next === null }, 'webhook delivery failed');
    return false;
  }

  async function deliverDue(): Promise<number> {
    const store = createWebhookStore(db);
    let delivered = 0;
    for (const row of await store.due(new Date(now()).toISOString(), 50)) {
      if (!(await store.claim(row.id, row.next_attempt_at!, new Date(now() + LEASE_MS).toISOString()))) continue;
      if (await deliverOne(row)) delivered++;
    }
    return delivered;
  }

  function runOnce(): Promise<number> {
    running ??= deliverDue().finally(() => (running = null));
    return running;
  }

  return {
    /** Queues a delivery (pass the transaction that makes the event, so both commit or neither). */
    async enqueue(
      input: { projectId: string; url: string; secret: string; type: string; data: unknown },
      trx: Kysely<Database> = db,
    ): Promise<string> {
      const id = newId('whd');
      const createdAt = new Date(now()).toISOString();
      await createWebhookStore(trx).insert({
        id,
        project_id: input.projectId,
        url: input.url,
        secret: input.secret,
        event_type: input.type,
        body: JSON.stringify({ id, type: input.type, createdAt, data: input.data }),
        next_attempt_at: createdAt,
        delivered_at: null,
        last_error: null,
        created_at: createdAt,
      });
      return id;
    },

    /** Sends every due delivery once (one run at a time per process); returns how many succeeded. */
    deliverDue: runOnce,

    /** Starts a delivery run now rather than at the next sweep (after an event's transaction commits). */
    nudge(): void {
      runOnce().catch((err: unknown) => options.logger?.error({ err }, 'webhook delivery failed'));
    },

    /** Resolves when the delivery run under way, if any, is over (tests, shutdown). */
    async idle(): Promise<void> {
      await running?.catch(() => undefined);
    },

    list(projectId: string) {
      return createWebhookStore(db).list(projectId);
    },
  };
}

export type Webhooks = ReturnType<typeof createWebhooks>;
