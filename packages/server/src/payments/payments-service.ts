import { createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import {
  type MandateTerms as MandateTermsSchema,
  type CreatePaymentRequest,
  type Mandate,
  type Payment,
  type PaymentLimits,
  type SetPaymentLimitsRequest,
  type Signer,
} from '@hangar/protocol';
import type { z } from 'zod';
import { periodKey } from '../budgets/budget-periods.js';
import type { Database } from '../db/schema.js';
import { ApiError } from '../http/api-error.js';
import type { Ledger, LedgerOp } from '../ledger/ledger-service.js';
import type { ActionPipeline } from '../actions/action-pipeline.js';
import { actingPrincipal, storedContext, type Action, type ActionContext, type ActorChain, type Outcome } from '../actions/action.js';
import { canonicalJson, sha256Hex } from '../util/hash.js';
import { newId } from '../util/ids.js';
import type { PaymentRail } from './payment-rail.js';
import { createPaymentsStore, type LimitsRow, type MandateRow, type PaymentRow } from './payments-store.js';

type Terms = z.output<typeof MandateTermsSchema>;
type PaymentInput = Omit<CreatePaymentRequest, 'currency'> & { currency: string };

export interface PaymentsOptions {
  db: Kysely<Database>;
  ledger: Ledger;
  rail: PaymentRail;
  /**
   * The action pipeline (authorize with credential scopes, intent, Cedar and approvals; spend caps;
   * budgets) every payment request goes through as a `payment.create` action. Without it `pay`
   * refuses: a payment is never made unauthorized.
   */
  actions?: ActionPipeline;
  logger?: Logger;
  now?: () => number;
}

/** A payment request as the HTTP layer hands it over: who asks, what, and an approval if one was given. */
export interface PayRequest {
  projectId: string;
  actor: ActorChain;
  input: PaymentInput;
  /** A signed approval (x-hangar-approval) for exactly this payment. */
  approval?: string | undefined;
}

const HOLD_TIMEOUT_MS = 15 * 60_000;

/** An Ed25519 public key from PEM (SPKI) or the base64url of its 32 raw bytes. */
export function parsePublicKey(text: string): KeyObject {
  try {
    const key = text.includes('BEGIN PUBLIC KEY')
      ? createPublicKey(text)
      : createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: text.trim() }, format: 'jwk' });
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('not Ed25519');
    return key;
  } catch (cause) {
    throw new ApiError('validation_failed', 'publicKey must be an Ed25519 public key (PEM, or base64url of its 32 bytes).', { cause });
  }
}

/** The bytes a human signs for a mandate: the canonical JSON of its terms, every field present. */
export function mandateSigningBytes(terms: Terms): Buffer {
  return Buffer.from(canonicalJson(terms));
}

function toPayment(row: PaymentRow): Payment {
  return {
    id: row.id,
    agentId: row.agent_id,
    mandateId: row.mandate_id,
    payee: row.payee,
    amountMicros: Number(row.amount),
    currency: row.currency,
    purpose: row.purpose,
    merchantCategory: row.merchant_category,
    status: row.status as Payment['status'],
    rail: row.rail,
    railRef: row.rail_ref,
    holdIds: JSON.parse(row.hold_ids) as string[],
    failureReason: row.failure_reason,
    idempotencyKey: row.idempotency_key,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** How a payment's action ended, once the payment has: null while it is still being paid. */
function outcomeOf(payment: Payment): Outcome | null {
  switch (payment.status) {
    case 'captured':
    case 'refunded':
      return { status: 'ok' };
    case 'failed':
      return { status: 'error', code: 'payment_failed', message: `The payment failed: ${payment.failureReason ?? 'no reason given'}.` };
    case 'pending_approval':
      return { status: 'error', code: 'approval_required', message: `Payment ${payment.id} needs approval.` };
    case 'authorizing':
    case 'authorized':
    case 'settling':
      return null;
  }
}

/**
 * Already recorded by another process or request: the action (by the recovery sweep, or the request it
 * recovered), or the payment (by a request with the same key).
 */
class AlreadyRecorded extends Error {}

function toLimits(row: LimitsRow): PaymentLimits {
  return {
    agentId: row.agent_id,
    currency: row.currency,
    perTransactionMicros: row.per_transaction === null ? null : Number(row.per_transaction),
    perDayMicros: row.per_day === null ? null : Number(row.per_day),
    timeZone: row.time_zone,
    payees: row.payees === null ? null : (JSON.parse(row.payees) as string[]),
    approvalOverMicros: row.approval_over === null ? null : Number(row.approval_over),
    updatedAt: row.updated_at,
  };
}

/** The hash a payment's idempotency key is bound to: its request less the key. */
function requestHash(input: PaymentInput): string {
  const { idempotencyKey: _key, ...body } = input;
  return sha256Hex(canonicalJson(body));
}

/** The answer to a request whose idempotency key names an existing payment: that payment, if the bodies match. */
function replayOf(row: PaymentRow, input: PaymentInput): Payment {
  if (row.request_hash !== requestHash(input)) {
    throw new ApiError('idempotency_conflict', `Idempotency key ${input.idempotencyKey} was used for another payment.`, { details: { paymentId: row.id } });
  }
  if (row.status === 'pending_approval') {
    throw new ApiError('approval_required', `Payment ${row.id} waits for approval.`, { details: { paymentId: row.id } });
  }
  return toPayment(row);
}

/**
 * Agent payments: governed by a policy stage, payment limits and a mandate signed by a human; money is
 * held in the ledger (against the mandate's cap and the day's limit) before the rail is called, and
 * posted only when the rail captured it.
 */
export function createPayments(options: PaymentsOptions) {
  const { db, ledger, rail } = options;
  const now = options.now ?? Date.now;
  const iso = () => new Date(now()).toISOString();

  const refuse = (reason: string, message: string, details: Record<string, unknown> = {}) =>
    new ApiError('payment_refused', message, { details: { reason, ...details } });

  async function account(projectId: string, code: string, spec: { kind: 'funding_source' | 'external_payee' | 'agent'; name: string; currency: string; min?: number }) {
    const { account: a } = await ledger.createAccount(projectId, {
      kind: spec.kind,
      name: spec.name,
      currency: spec.currency,
      code,
      minBalanceMicros: spec.min ?? null,
    });
    return a.id;
  }

  async function mandateView(m: MandateRow): Promise<Mandate> {
    const a = await ledger.getAccount(m.project_id, m.account_id);
    const expired = m.expires_at <= iso();
    return {
      id: m.id,
      signerId: m.signer_id,
      agentId: m.agent_id,
      amountCapMicros: Number(m.amount_cap),
      currency: m.currency,
      payees: m.payees === null ? null : (JSON.parse(m.payees) as string[]),
      merchantCategories: m.categories === null ? null : (JSON.parse(m.categories) as string[]),
      expiresAt: m.expires_at,
      use: m.single_use ? 'single' : 'multiple',
      status: expired ? 'expired' : m.single_use && m.uses > 0 ? 'used' : 'active',
      remainingMicros: a.availableMicros,
      accountId: m.account_id,
      createdAt: m.created_at,
    };
  }

  /** The day-limit account of an agent for today, funded with the limit once. */
  async function dayAccount(projectId: string, limits: LimitsRow): Promise<{ id: string; spent: string }> {
    const day = periodKey('daily', limits.time_zone, new Date(now()));
    const base = `paylimit:${limits.agent_id}:${limits.currency}`;
    const allocation = await account(projectId, `${base}:allocation`, { kind: 'funding_source', name: `${limits.agent_id} daily limit`, currency: limits.currency });
    const spent = await account(projectId, `${base}:spent`, { kind: 'agent', name: `${limits.agent_id} paid`, currency: limits.currency });
    // A new day account whenever the limit changes, so a raised limit applies the same day.
    const id = await account(projectId, `${base}:${day}:${Number(limits.per_day)}`, {
      kind: 'agent',
      name: `${limits.agent_id} ${day}`,
      currency: limits.currency,
      min: 0,
    });
    await ledger.transfer(projectId, [
      { debitAccountId: allocation, creditAccountId: id, amountMicros: Number(limits.per_day), idempotencyKey: `${base}:${day}:${Number(limits.per_day)}:open` },
    ]);
    return { id, spent };
  }

  /**
   * Ends the payment.create action `ctx`: the pipeline's stages settle and the action is recorded —
   * once: the record takes the context the payment row keeps, so whichever of the request and the
   * recovery sweep comes second records nothing.
   */
  async function endAction(ctx: ActionContext, projectId: string, idempotencyKey: string, outcome: Outcome): Promise<void> {
    try {
      await options.actions!.finish(ctx, { ok: outcome.status === 'ok', costMicros: null }, outcome, async (trx) => {
        const store = createPaymentsStore(trx);
        const row = await store.getPaymentByKey(projectId, idempotencyKey);
        // no payment was made: recorded as refused
        if (!row) return;
        // another request with the same key made it: this one was its replay, which records nothing
        if (row.action_id !== ctx.id) throw new AlreadyRecorded();
        if (!(await store.takeActionContext(projectId, row.id))) throw new AlreadyRecorded();
      });
    } catch (err) {
      if (!(err instanceof AlreadyRecorded)) throw err;
    }
  }

  /** Voids the holds still pending, each on its own (one already resolved is left as it is). */
  async function release(projectId: string, holdIds: string[]): Promise<void> {
    await Promise.all(holdIds.map((holdId) => ledger.commit(projectId, [{ type: 'void', holdId }]).catch(() => {})));
  }

  async function fail(projectId: string, row: PaymentRow, holdIds: string[], reason: string): Promise<Payment> {
    await release(projectId, holdIds);
    await createPaymentsStore(db).unuseMandate(projectId, row.mandate_id);
    await createPaymentsStore(db).updatePayment(projectId, row.id, row.status, { status: 'failed', failure_reason: reason, updated_at: iso() });
    return toPayment((await createPaymentsStore(db).getPayment(projectId, row.id))!);
  }

  /**
   * Moves a payment on from wherever it stands until it is captured (and posted) or failed:
   * authorizing → authorized (rail reference recorded) → settling (captured on the rail) → captured
   * (posted in the ledger). Each step is idempotent — the rail is called with the payment's key, a
   * post of a posted hold replays — so a step repeated after a crash does nothing twice.
   */
  async function advance(start: PaymentRow): Promise<Payment> {
    const store = createPaymentsStore(db);
    const { project_id: projectId } = start;
    const holdIds = JSON.parse(start.hold_ids) as string[];
    let row = start;
    const move = async (to: string, more: Partial<PaymentRow> = {}) => {
      const changes = { status: to, updated_at: iso(), ...more };
      if (!(await store.updatePayment(projectId, row.id, row.status, changes))) {
        throw new ApiError('conflict', `Payment ${row.id} changed while it was being paid; retry.`, { details: { paymentId: row.id } });
      }
      row = { ...row, ...changes };
    };
    if (row.status === 'authorizing') {
      const auth = await rail.authorize({
        idempotencyKey: `${projectId}:${row.idempotency_key}`,
        payee: row.payee,
        amountMicros: Number(row.amount),
        currency: row.currency,
        purpose: row.purpose,
      });
      if (!auth.ok) return fail(projectId, row, holdIds, auth.reason);
      await move('authorized', { rail_ref: auth.ref });
    }
    if (row.status === 'authorized') {
      const ref = row.rail_ref!;
      const onRail = await rail.status(ref);
      if (onRail === 'authorized') {
        const captured = await rail.capture(ref);
        if (!captured.ok) return fail(projectId, row, holdIds, captured.reason);
      } else if (onRail !== 'captured') {
        return fail(projectId, row, holdIds, `rail: payment ${ref} is ${onRail}`);
      }
      await move('settling');
    }
    if (row.status === 'settling') {
      await settle(row, holdIds);
      await move('captured');
    }
    return toPayment(row);
  }

  /**
   * Posts the holds of a payment the rail captured. Holds that expired meanwhile (a process down past
   * their timeout) no longer hold anything: the money left all the same, so the same accounts are
   * charged by plain transfers instead.
   */
  async function settle(row: PaymentRow, holdIds: string[]): Promise<void> {
    try {
      await ledger.commit(row.project_id, holdIds.map((holdId) => ({ type: 'post' as const, holdId })));
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 'conflict')) throw error;
      const holds = await Promise.all(holdIds.map((id) => ledger.getHold(row.project_id, id)));
      const ops: LedgerOp[] = holds
        .filter((h) => h.status !== 'posted')
        .map((h) => ({
          type: 'transfer',
          debitAccountId: h.transfer.debitAccountId,
          creditAccountId: h.transfer.creditAccountId,
          amountMicros: h.transfer.amountMicros,
          idempotencyKey: `payment:${row.idempotency_key}:late:${h.id}`,
          memo: `payment ${row.id} captured after its hold ${h.status}`,
          metadata: { paymentId: row.id },
        }));
      await ledger.commit(row.project_id, ops);
    }
  }

  const service = {
    async setLimits(projectId: string, agentId: string, input: SetPaymentLimitsRequest): Promise<PaymentLimits> {
      const row: LimitsRow = {
        project_id: projectId,
        agent_id: agentId,
        currency: input.currency ?? 'USD',
        per_transaction: input.perTransactionMicros ?? null,
        per_day: input.perDayMicros ?? null,
        time_zone: input.timeZone ?? 'UTC',
        payees: input.payees ? JSON.stringify(input.payees) : null,
        approval_over: input.approvalOverMicros ?? null,
        updated_at: iso(),
      };
      periodKey('daily', row.time_zone, new Date()); // throws RangeError on an unknown zone
      await createPaymentsStore(db).putLimits(row);
      return toLimits(row);
    },

    async getLimits(projectId: string, agentId: string, currency = 'USD'): Promise<PaymentLimits> {
      const row = await createPaymentsStore(db).getLimits(projectId, agentId, currency);
      if (!row) throw new ApiError('not_found', `No ${currency} payment limits for agent ${agentId}.`);
      return toLimits(row);
    },

    async registerSigner(projectId: string, input: { name: string; publicKey: string }): Promise<Signer> {
      parsePublicKey(input.publicKey);
      const row = { id: newId('sgn'), project_id: projectId, name: input.name, public_key: input.publicKey.trim(), created_at: iso() };
      await createPaymentsStore(db).insertSigner(row);
      return { id: row.id, name: row.name, publicKey: row.public_key, createdAt: row.created_at };
    },

    /** Registers a mandate after checking the human's signature over its terms. */
    async createMandate(projectId: string, input: { terms: Terms; signature: string }): Promise<Mandate> {
      const store = createPaymentsStore(db);
      const prior = await store.getMandateBySignature(projectId, input.signature);
      if (prior) return mandateView(prior);
      const signer = await store.getSigner(projectId, input.terms.signerId);
      if (!signer) throw new ApiError('not_found', `No mandate signer ${input.terms.signerId} in this project.`);
      const valid = verifySignature(null, mandateSigningBytes(input.terms), parsePublicKey(signer.public_key), Buffer.from(input.signature, 'base64url'));
      if (!valid) throw new ApiError('validation_failed', `The signature does not match the terms and signer ${signer.id}'s key.`);
      if (input.terms.expiresAt <= iso()) throw new ApiError('validation_failed', 'The mandate has already expired.');
      const id = newId('mdt');
      const funding = await account(projectId, `payments:funding:${input.terms.currency}`, {
        kind: 'funding_source',
        name: `payments funding (${input.terms.currency})`,
        currency: input.terms.currency,
      });
      const accountId = await account(projectId, `mandate:${id}`, { kind: 'agent', name: `mandate ${id}`, currency: input.terms.currency, min: 0 });
      await ledger.transfer(projectId, [
        { debitAccountId: funding, creditAccountId: accountId, amountMicros: input.terms.amountCapMicros, idempotencyKey: `mandate:${id}:fund` },
      ]);
      const row = {
        id,
        project_id: projectId,
        signer_id: signer.id,
        agent_id: input.terms.agentId,
        terms: canonicalJson(input.terms),
        signature: input.signature,
        amount_cap: input.terms.amountCapMicros,
        currency: input.terms.currency,
        payees: input.terms.payees ? JSON.stringify(input.terms.payees) : null,
        categories: input.terms.merchantCategories ? JSON.stringify(input.terms.merchantCategories) : null,
        expires_at: input.terms.expiresAt,
        single_use: input.terms.use === 'single' ? 1 : 0,
        account_id: accountId,
        created_at: iso(),
      };
      if (!(await store.insertMandate(row))) return mandateView((await store.getMandateBySignature(projectId, input.signature))!);
      return mandateView({ ...row, uses: 0 });
    },

    async listMandates(projectId: string): Promise<Mandate[]> {
      return Promise.all((await createPaymentsStore(db).listMandates(projectId)).map(mandateView));
    },

    async get(projectId: string, id: string): Promise<Payment> {
      const row = await createPaymentsStore(db).getPayment(projectId, id);
      if (!row) throw new ApiError('not_found', `No payment ${id} in this project.`);
      return toPayment(row);
    },

    /** Payments of the project created in [from, to) (ISO times), for reconciliation. */
    async listBetween(projectId: string, from: string, to: string): Promise<Payment[]> {
      return (await createPaymentsStore(db).paymentsBetween(projectId, from, to)).map(toPayment);
    },

    async list(projectId: string, limit = 100): Promise<Payment[]> {
      return (await createPaymentsStore(db).listPayments(projectId, limit)).map(toPayment);
    },

    /**
     * A payment request as an action: the payment.create action (resource: the payee; arguments: the
     * request) goes through every stage of the pipeline — the credential's scopes and intent, Cedar
     * (payments are denied by default), approvals — and is recorded with its decision, then `create`
     * pays. A payment above its agent's approval threshold needs an approval even where policy allows
     * it. A replay of a key already used answers from the first payment without acting again.
     */
    async pay(request: PayRequest): Promise<Payment> {
      const { projectId, actor, input } = request;
      const actions = options.actions;
      if (!actions) throw new ApiError('internal', 'Payments are not wired to the action pipeline on this server.');
      const acting = actingPrincipal(actor);
      if (actor.credentialId && (acting?.type !== 'agent' || acting.id !== input.agentId)) {
        throw new ApiError('forbidden', `This credential acts for agent ${acting?.id ?? '?'}; it cannot pay as agent ${input.agentId}.`);
      }
      const store = createPaymentsStore(db);
      const prior = await store.getPaymentByKey(projectId, input.idempotencyKey);
      if (prior) return replayOf(prior, input);

      const limits = await store.getLimits(projectId, input.agentId, input.currency);
      const threshold = limits?.approval_over ?? null;
      const action: Action = {
        kind: 'payment.create',
        projectId,
        actor,
        resource: input.payee,
        args: input,
        amountMicros: input.amountMicros,
        idempotencyKey: `payment:${input.idempotencyKey}`,
        approval: request.approval,
        requireApproval:
          threshold !== null && input.amountMicros > Number(threshold)
            ? `payments of agent ${input.agentId} over ${threshold} micro-${input.currency} need approval`
            : undefined,
      };
      // The action is recorded after the payment, and the payment row keeps the action's context
      // until then: a process killed in between leaves it for `recover`, which records the action.
      const ctx = await actions.begin(action);
      let payment: Payment;
      try {
        payment = await service.create(projectId, input, { approved: ctx.details.approved === true, action: ctx });
      } catch (err) {
        const e = err instanceof ApiError ? err : new ApiError('internal', (err as Error)?.message ?? String(err));
        await endAction(ctx, projectId, input.idempotencyKey, { status: 'error', code: e.code, message: e.message });
        throw err;
      }
      ctx.details.paymentId = payment.id;
      // still being paid (a conflict left it for recovery): recovery records it once it is paid
      const outcome = outcomeOf(payment);
      if (outcome) await endAction(ctx, projectId, input.idempotencyKey, outcome);
      return payment;
    },

    /**
     * Pays, or refuses with the rule that stopped it — the executor of a payment.create action (`pay`
     * authorizes first). Stages: idempotency → limits → mandate → approval threshold (unless
     * `approved`) → ledger holds (mandate cap, day limit) → the payment recorded and the mandate used,
     * together → rail authorize + capture → post (or void). A retry of a request that stopped after
     * its holds (a crash) takes them over: nothing is held twice, and a single-use mandate stays usable.
     */
    async create(projectId: string, input: PaymentInput, opts: { approved?: boolean; action?: ActionContext } = {}): Promise<Payment> {
      const store = createPaymentsStore(db);
      const { idempotencyKey } = input;
      const hash = requestHash(input);
      const replay = (row: PaymentRow) => replayOf(row, input);
      const prior = await store.getPaymentByKey(projectId, idempotencyKey);
      if (prior) return replay(prior);

      const merchantCategory = input.merchantCategory ?? null;
      const limits = await store.getLimits(projectId, input.agentId, input.currency);
      if (!limits) throw refuse('no_limits', `Agent ${input.agentId} has no ${input.currency} payment limits; an admin sets them first.`);
      if (limits.per_transaction !== null && input.amountMicros > Number(limits.per_transaction)) {
        throw refuse('per_transaction', `The per-transaction limit is ${limits.per_transaction}.`, { limitMicros: Number(limits.per_transaction) });
      }
      const allowed = limits.payees === null ? null : (JSON.parse(limits.payees) as string[]);
      if (allowed && !allowed.includes(input.payee)) throw refuse('payee_not_allowed', `${input.payee} is not on agent ${input.agentId}'s payee allowlist.`);

      const mandate = await store.getMandate(projectId, input.mandateId);
      if (!mandate) throw new ApiError('not_found', `No mandate ${input.mandateId} in this project.`);
      if (mandate.agent_id !== input.agentId) throw refuse('mandate_agent', `Mandate ${mandate.id} is for agent ${mandate.agent_id}.`);
      if (mandate.currency !== input.currency) throw refuse('currency', `Mandate ${mandate.id} is in ${mandate.currency}.`);
      if (mandate.expires_at <= iso()) throw refuse('mandate_expired', `Mandate ${mandate.id} expired at ${mandate.expires_at}.`);
      const payees = mandate.payees === null ? [] : (JSON.parse(mandate.payees) as string[]);
      const categories = mandate.categories === null ? [] : (JSON.parse(mandate.categories) as string[]);
      if (!payees.includes(input.payee) && !(merchantCategory !== null && categories.includes(merchantCategory))) {
        throw refuse('mandate_scope', `Mandate ${mandate.id} covers neither payee ${input.payee} nor its merchant category.`);
      }
      if (mandate.single_use && mandate.uses > 0) throw refuse('mandate_used', `Single-use mandate ${mandate.id} was used.`);

      // A request with this key that stopped between holding the money and recording the payment (a
      // crash) left its holds under the payment id it chose: this request takes them over.
      const holdKeys = { mandate: `payment:${idempotencyKey}:mandate`, day: `payment:${idempotencyKey}:day` };
      const earlier = await ledger.transfersByKeys(projectId, [holdKeys.mandate, holdKeys.day]);
      const earlierDay = earlier.find((t) => t.idempotencyKey === holdKeys.day);
      const base: PaymentRow = {
        id: (earlier[0]?.metadata?.paymentId as string | undefined) ?? newId('pay'),
        project_id: projectId,
        agent_id: input.agentId,
        mandate_id: mandate.id,
        payee: input.payee,
        amount: input.amountMicros,
        currency: input.currency,
        purpose: input.purpose,
        merchant_category: merchantCategory,
        status: 'authorizing',
        rail: rail.name,
        rail_ref: null,
        hold_ids: '[]',
        failure_reason: null,
        idempotency_key: idempotencyKey,
        request_hash: hash,
        created_at: iso(),
        updated_at: iso(),
        action_id: opts.action?.id ?? null,
        action_context: opts.action ? storedContext(opts.action) : null,
      };
      const needsApproval = !opts.approved && limits.approval_over !== null && input.amountMicros > Number(limits.approval_over);
      if (needsApproval) {
        // Only a caller that skipped `pay` (or a threshold lowered meanwhile) gets here: recorded, refused.
        if (!(await store.insertPayment({ ...base, status: 'pending_approval' }))) return replay((await store.getPaymentByKey(projectId, idempotencyKey))!);
        throw new ApiError('approval_required', `Payments over ${limits.approval_over} need approval; payment ${base.id} is recorded.`, {
          details: { paymentId: base.id },
        });
      }

      // Hold the money before anything leaves: against the mandate's cap and the day's limit, together.
      const payee = await account(projectId, `payee:${input.currency}:${input.payee}`, { kind: 'external_payee', name: input.payee, currency: input.currency });
      const ops: LedgerOp[] = [
        { type: 'hold', debitAccountId: mandate.account_id, creditAccountId: payee, amountMicros: input.amountMicros, timeoutMs: HOLD_TIMEOUT_MS, idempotencyKey: holdKeys.mandate, metadata: { paymentId: base.id } },
      ];
      if (limits.per_day !== null) {
        // the earlier request's day, should the day have changed since
        const day = earlierDay ? { id: earlierDay.debitAccountId, spent: earlierDay.creditAccountId } : await dayAccount(projectId, limits);
        ops.push({ type: 'hold', debitAccountId: day.id, creditAccountId: day.spent, amountMicros: input.amountMicros, timeoutMs: HOLD_TIMEOUT_MS, idempotencyKey: holdKeys.day, metadata: { paymentId: base.id } });
      }
      let holds;
      try {
        holds = await ledger.commit(projectId, ops);
      } catch (error) {
        if (error instanceof ApiError && error.code === 'insufficient_balance') {
          const d = error.details as { accountId: string; availableMicros: number };
          if (d.accountId === mandate.account_id) throw refuse('mandate_cap', `Mandate ${mandate.id} has ${d.availableMicros} left.`, { remainingMicros: d.availableMicros });
          throw refuse('per_day', `Agent ${input.agentId} has ${d.availableMicros} left today.`, { remainingMicros: d.availableMicros });
        }
        if (error instanceof ApiError && error.code === 'idempotency_conflict') {
          // another request with this key (both past the replay check) holds first: its payment, once it is recorded
          const first = await store.getPaymentByKey(projectId, idempotencyKey);
          if (first) return replay(first);
          throw new ApiError('conflict', `Another request with idempotency key ${idempotencyKey} is paying; retry to get its payment.`, {
            details: { idempotencyKey },
          });
        }
        throw error;
      }
      const holdIds = holds.map((h) => h.id);
      const row = { ...base, hold_ids: JSON.stringify(holdIds) };
      if (earlier.length) {
        const released = (await Promise.all(holdIds.map((id) => ledger.getHold(projectId, id)))).find((h) => h.status !== 'pending');
        if (released) {
          // the holds taken over ran out (or were voided) before this request came: nothing was paid
          const reason = `the request that held the money stopped before paying, and its hold ${released.id} was ${released.status} since`;
          if (!(await store.insertPayment({ ...row, status: 'failed', failure_reason: reason }))) return replay((await store.getPaymentByKey(projectId, idempotencyKey))!);
          await release(projectId, holdIds);
          return toPayment((await store.getPayment(projectId, row.id))!);
        }
      }
      // The payment row and the mandate's use commit together, so no crash leaves one without the other.
      try {
        await db.transaction().execute(async (trx) => {
          const inTrx = createPaymentsStore(trx);
          if (!(await inTrx.insertPayment(row))) throw new AlreadyRecorded();
          if (!(await inTrx.useMandate(projectId, mandate.id))) throw refuse('mandate_used', `Single-use mandate ${mandate.id} was used.`);
        });
      } catch (error) {
        // another request with this key recorded it first, with the same holds (a unique payment id
        // taken over from the same holds may be what conflicted): its payment
        const first = await store.getPaymentByKey(projectId, idempotencyKey);
        if (first) return replay(first);
        await release(projectId, holdIds);
        throw error;
      }

      // The payment is recorded before the rail is called and each answer of the rail is recorded
      // before the next call: a process killed anywhere in between leaves a row the recovery sweep
      // finishes (`recover`).
      return advance(row);
    },

    /**
     * Finishes payments a killed process left between the rail and the ledger: asks the rail where each
     * stands and posts what it captured, or voids what it did not; then records the payment.create
     * action of a payment whose request did not live to record it. Payments untouched for less than
     * `graceMs` are left alone (a live request may be working on them). Returns how many it finished.
     */
    async recover(graceMs: number, limit = 100): Promise<number> {
      const stuck = await createPaymentsStore(db).stuckPayments(new Date(now() - graceMs).toISOString(), limit);
      let finished = 0;
      for (const row of stuck) {
        try {
          const after = await advance(row);
          const outcome = outcomeOf(after);
          const recording = row.action_context !== null && outcome !== null && options.actions !== undefined;
          if (recording) {
            const ctx = JSON.parse(row.action_context!) as ActionContext;
            ctx.details.paymentId = row.id;
            ctx.details.recovered = true;
            await endAction(ctx, row.project_id, row.idempotency_key, outcome);
          }
          if (after.status !== row.status || recording) finished++;
          options.logger?.warn({ paymentId: row.id, from: row.status, to: after.status, actionRecorded: recording }, 'payment recovered');
        } catch (err) {
          options.logger?.error({ err, paymentId: row.id }, 'payment recovery failed');
        }
      }
      return finished;
    },

    /** Refunds a captured payment on its rail and gives the amount back to its mandate. */
    async refund(projectId: string, id: string): Promise<Payment> {
      const store = createPaymentsStore(db);
      const row = await store.getPayment(projectId, id);
      if (!row) throw new ApiError('not_found', `No payment ${id} in this project.`);
      if (row.status === 'refunded') return toPayment(row);
      if (row.status !== 'captured' || !row.rail_ref) throw new ApiError('conflict', `Payment ${id} is ${row.status}; only a captured payment can be refunded.`);
      const refunded = await rail.refund(row.rail_ref, Number(row.amount));
      if (!refunded.ok) throw new ApiError('conflict', `The rail refused the refund: ${refunded.reason}`);
      const mandate = (await store.getMandate(projectId, row.mandate_id))!;
      const payee = (await ledger.getAccountByCode(projectId, `payee:${row.currency}:${row.payee}`))!;
      await ledger.transfer(projectId, [
        { debitAccountId: payee.id, creditAccountId: mandate.account_id, amountMicros: Number(row.amount), idempotencyKey: `payment:${row.idempotency_key}:refund`, memo: `refund of ${row.id}` },
      ]);
      await store.updatePayment(projectId, id, 'captured', { status: 'refunded', updated_at: iso() });
      return toPayment((await store.getPayment(projectId, id))!);
    },
  };
  return service;
}

export type Payments = ReturnType<typeof createPayments>;
