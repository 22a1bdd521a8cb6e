import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { createSandboxRailStore } from './sandbox-rail-store.js';

/** What a rail says about one payment. */
export type RailResult = { ok: true; ref: string } | { ok: false; reason: string };
export type RailStatus = 'authorized' | 'captured' | 'refunded' | 'failed' | 'unknown';

/**
 * A way money leaves: a card processor, x402, a bank transfer, or the built-in `sandbox`. Every call
 * carries the payment's idempotency key, so a retried call never pays twice. See docs/ledger.md.
 */
export interface PaymentRail {
  readonly name: string;
  /** Reserves the amount with the payee's side (or checks it can be paid); returns the rail's reference. */
  authorize(request: { idempotencyKey: string; payee: string; amountMicros: number; currency: string; purpose: string }): Promise<RailResult>;
  /** Moves the authorized amount. */
  capture(ref: string): Promise<RailResult>;
  /** Gives back a captured amount. */
  refund(ref: string, amountMicros: number): Promise<RailResult>;
  /** Where the payment stands on the rail (for reconciliation and recovery). */
  status(ref: string): Promise<RailStatus>;
  /** The rail's statement: every payment it captured (or refunded since) created in [from, to). */
  statement(from: string, to: string): Promise<RailStatementEntry[]>;
}

/** One line of a rail's statement. `idempotencyKey` is the key Hangar sent (`<projectId>:<key>`). */
export interface RailStatementEntry {
  ref: string;
  idempotencyKey: string;
  payee: string;
  amountMicros: number;
  currency: string;
  status: RailStatus;
  createdAt: string;
}

export interface SandboxRailOptions {
  db: Kysely<Database>;
  /** Payees whose payments the sandbox declines (e.g. to test the failure path). */
  failPayees?: string[];
  /** Fraction (0–1) of authorizations declined at random. */
  failureRate?: number;
  /** Added to every call, to simulate a slow network. */
  delayMs?: number;
  /**
   * Kill the process (SIGKILL) right after a capture succeeds, before Hangar records it: the crash
   * test of the gap between the rail and the ledger (HANGAR_SANDBOX_RAIL_CRASH_AFTER_CAPTURE=1).
   */
  crashAfterCapture?: boolean;
}

/**
 * The built-in rail: settles into a simulated external account kept in the store (its own books, the
 * "statement" reconciliation compares with the ledger), so the whole payment flow works offline.
 */
export function createSandboxRail(options: SandboxRailOptions): PaymentRail {
  const store = createSandboxRailStore(options.db);
  const fail = new Set(options.failPayees ?? []);
  const pause = () => (options.delayMs ? new Promise((r) => setTimeout(r, options.delayMs)) : Promise.resolve());
  const now = () => new Date().toISOString();

  async function move(ref: string, from: string, to: string): Promise<RailResult> {
    await pause();
    return (await store.move(ref, from, to, now())) ? { ok: true, ref } : { ok: false, reason: `sandbox: ${ref} is not ${from}` };
  }

  return {
    name: 'sandbox',
    async authorize(request) {
      await pause();
      const prior = await store.byKey(request.idempotencyKey);
      if (prior) return prior.status === 'failed' ? { ok: false, reason: 'sandbox: declined' } : { ok: true, ref: prior.ref };
      const declined = fail.has(request.payee) || (options.failureRate ?? 0) > Math.random();
      const ref = `sbx_${randomBytes(12).toString('hex')}`;
      await store.insert({
          ref,
          idempotency_key: request.idempotencyKey,
          payee: request.payee,
          amount: request.amountMicros,
          currency: request.currency,
          status: declined ? 'failed' : 'authorized',
          created_at: now(),
        updated_at: now(),
      });
      return declined ? { ok: false, reason: 'sandbox: declined' } : { ok: true, ref };
    },
    async capture(ref) {
      const result = await move(ref, 'authorized', 'captured');
      if (result.ok && options.crashAfterCapture) process.kill(process.pid, 'SIGKILL');
      return result;
    },
    refund: (ref) => move(ref, 'captured', 'refunded'),
    async status(ref) {
      const row = await store.byRef(ref);
      return (row?.status as RailStatus | undefined) ?? 'unknown';
    },
    async statement(from, to) {
      return (await store.settled(from, to)).map((r) => ({
        ref: r.ref,
        idempotencyKey: r.idempotency_key,
        payee: r.payee,
        amountMicros: Number(r.amount),
        currency: r.currency,
        status: r.status as RailStatus,
        createdAt: r.created_at,
      }));
    },
  };
}
