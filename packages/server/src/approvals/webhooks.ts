import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { newId } from '../util/ids.js';

/**
 * The signature header of a webhook delivery: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
 * Receivers recompute it with their secret and reject old timestamps (replays).
 */
export function signWebhook(secret: string, body: string, timestamp: number): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Checks a signature header against the body (for receivers; Hangar's tests use it too). */
export function verifyWebhook(secret: string, body: string, header: string, toleranceS = 300, now = Date.now()): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(now / 1000 - t) > toleranceS || !parts.v1) return false;
  const expected = Buffer.from(signWebhook(secret, body, t).split('v1=')[1]!, 'hex');
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface WebhookSenderOptions {
  logger?: Logger;
  /** Waits before each retry; the default retries 5 times over about 30 s. */
  retryDelaysMs?: number[];
  timeoutMs?: number;
}

/**
 * Delivers webhooks in the background, retried on a network error or a non-2xx answer. Deliveries live
 * in this process: one that is still retrying when the server stops is lost (the approval itself is not).
 */
export function createWebhookSender({ logger, retryDelaysMs = [500, 2000, 5000, 10_000, 15_000], timeoutMs = 5000 }: WebhookSenderOptions = {}) {
  const inFlight = new Set<Promise<void>>();

  async function deliver(url: string, secret: string, event: string, payload: unknown): Promise<void> {
    const delivery = newId('dlv');
    const body = JSON.stringify({ id: delivery, type: event, time: new Date().toISOString(), data: payload });
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-hangar-event': event,
            'x-hangar-delivery': delivery,
            'x-hangar-signature': signWebhook(secret, body, Math.floor(Date.now() / 1000)),
          },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        await res.body?.cancel();
        if (res.ok) return;
        logger?.warn({ url, event, status: res.status, attempt }, 'webhook delivery refused');
      } catch (err) {
        logger?.warn({ url, event, err: (err as Error).message, attempt }, 'webhook delivery failed');
      }
      const wait = retryDelaysMs[attempt];
      if (wait === undefined) {
        logger?.error({ url, event, delivery }, 'webhook delivery given up');
        return;
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  return {
    send(url: string, secret: string, event: string, payload: unknown): void {
      const p = deliver(url, secret, event, payload).finally(() => inFlight.delete(p));
      inFlight.add(p);
    },
    /** Resolves when every delivery under way has succeeded or given up. */
    async idle(): Promise<void> {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}

export type WebhookSender = ReturnType<typeof createWebhookSender>;
