import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Approval, ApprovalWebhook } from '@hangar/protocol';
import { actingPrincipal, type ActionContext, type Decision } from '../actions/action.js';
import type { Database } from '../db/schema.js';
import { ApiError } from '../http/api-error.js';
import { journalActorOf, type AuthContext } from '../http/app-env.js';
import type { SigningKeys } from '../identity/signing-keys.js';
import type { Journal } from '../journal/journal-service.js';
import type { ApprovalGate } from '../policy/policy-stage.js';
import { canonicalJson } from '../util/hash.js';
import type { Webhooks } from '../webhooks/webhook-service.js';
import { newId, nowIso } from '../util/ids.js';
import { createApprovalsStore, toApproval } from './approvals-store.js';

/** The audience of signed approval decisions: they are presented back to Hangar, nowhere else. */
export const APPROVAL_AUDIENCE = 'hangar:approval';
/** The journal stream of a project's approval requests and decisions. */
export const APPROVALS_STREAM = 'approvals';

export interface ApprovalsOptions {
  db: Kysely<Database>;
  journal: Journal;
  signingKeys: SigningKeys;
  /** The outbox: approval events are queued in the transaction that records them. */
  webhooks: Webhooks;
  /** An undecided request expires after this long (default 24 h). */
  requestTtlMs?: number;
  /** An approval must be used within this long of the decision (default 15 min). */
  approvalTtlMs?: number;
}

interface DecisionRecord {
  project: string;
  decision: 'approved' | 'denied';
  kind: string;
  resource: string;
  argsSha256: string;
  actor: string;
  decidedBy: string;
  decidedAt: string;
}

/**
 * Approvals: a request for each action that policy allows only once approved; decisions by people,
 * signed (Ed25519) over exactly which action and which arguments; each approval usable once, briefly.
 */
export function createApprovals({ db, journal, signingKeys, webhooks, requestTtlMs = 24 * 3600_000, approvalTtlMs = 15 * 60_000 }: ApprovalsOptions) {
  const invalid = (message: string, details?: unknown) => new ApiError('approval_invalid', message, { details });

  /** Queues the event for the project's approval webhook, if it has one, in the event's transaction. */
  async function notify(trx: Kysely<Database>, projectId: string, id: string, event: string): Promise<boolean> {
    const store = createApprovalsStore(trx);
    const hook = await store.webhook(projectId);
    if (!hook) return false;
    const approval = toApproval((await store.get(projectId, id))!);
    await webhooks.enqueue({ projectId, url: hook.url, secret: hook.secret, type: event, data: { ...approval, token: undefined } }, trx);
    return true;
  }

  async function decide(auth: AuthContext, id: string, status: 'approved' | 'denied', note: string | undefined): Promise<Approval> {
    const sign = await signingKeys.signer();
    const store = createApprovalsStore(db);
    await store.expire(auth.project.id, nowIso());
    const row = await store.get(auth.project.id, id);
    if (!row) throw new ApiError('not_found', `No approval request ${id} in this project.`);
    if (row.status !== 'pending') throw new ApiError('conflict', `Approval request ${id} is ${row.status}, not pending.`);
    const decidedAt = nowIso();
    const validUntil = new Date(Date.now() + approvalTtlMs).toISOString();
    const decidedBy = `${journalActorOf(auth).type}:${journalActorOf(auth).id}`;
    const record: DecisionRecord = { project: auth.project.id, decision: status, kind: row.kind, resource: row.resource, argsSha256: row.args_sha256, actor: row.actor, decidedBy, decidedAt };
    const token = await sign({ jti: id, aud: APPROVAL_AUDIENCE, sub: decidedBy, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.parse(validUntil) / 1000), approval: record });
    const queued = await db.transaction().execute(async (trx) => {
      if (!(await createApprovalsStore(trx).decide(auth.project.id, id, { status, decidedBy, decidedAt, note: note ?? null, token, validUntil }))) {
        throw new ApiError('conflict', `Approval request ${id} was decided meanwhile.`);
      }
      await journal.append(
        { projectId: auth.project.id, stream: APPROVALS_STREAM, actor: journalActorOf(auth), events: [{ type: `approval.${status}`, payload: { approvalId: id, note: note ?? null, record } }] },
        trx,
      );
      return notify(trx, auth.project.id, id, `approval.${status}`);
    });
    if (queued) webhooks.nudge();
    return toApproval((await store.get(auth.project.id, id))!);
  }

  const gate: ApprovalGate = {
    async request(ctx: ActionContext, decision: Decision): Promise<string> {
      const { action } = ctx;
      const store = createApprovalsStore(db);
      const now = nowIso();
      const actor = canonicalJson(action.actor);
      const existing = await store.findPending(action.projectId, { kind: action.kind, resource: action.resource, argsSha256: ctx.argsSha256, actor }, now);
      if (existing) return existing.id;
      const id = newId('apr');
      const queued = await db.transaction().execute(async (trx) => {
        await createApprovalsStore(trx).insert({
          id,
          project_id: action.projectId,
          status: 'pending',
          kind: action.kind,
          resource: action.resource,
          args_sha256: ctx.argsSha256,
          args: canonicalJson(action.args ?? null),
          cost_micros: action.maxCostMicros ?? action.amountMicros ?? null,
          actor,
          reason: decision.reason ?? '',
          policy_ids: JSON.stringify(decision.policyIds),
          requested_at: now,
          expires_at: new Date(Date.now() + requestTtlMs).toISOString(),
          decided_by: null,
          decided_at: null,
          note: null,
          decision_token: null,
          valid_until: null,
          used_at: null,
        });
        const principal = actingPrincipal(action.actor);
        await journal.append(
          {
            projectId: action.projectId,
            stream: APPROVALS_STREAM,
            actor: principal && principal.type !== 'service' ? { type: principal.type, id: principal.id } : { type: 'system', id: principal?.id ?? 'anonymous' },
            events: [{ type: 'approval.requested', payload: { approvalId: id, kind: action.kind, resource: action.resource, argsSha256: ctx.argsSha256, costMicros: action.maxCostMicros ?? action.amountMicros ?? null, actor: action.actor, reason: decision.reason, policyIds: decision.policyIds } }],
          },
          trx,
        );
        return notify(trx, action.projectId, id, 'approval.requested');
      });
      if (queued) webhooks.nudge();
      return id;
    },

    async redeem(ctx: ActionContext, presented: string): Promise<void> {
      const { action } = ctx;
      let record: DecisionRecord;
      let id: string;
      try {
        const { payload } = await signingKeys.verify(presented, APPROVAL_AUDIENCE);
        record = payload.approval as DecisionRecord;
        id = payload.jti!;
      } catch (err) {
        if (err instanceof ApiError && err.code === 'credential_expired') throw invalid('The approval has expired; ask for a new one.');
        throw invalid('The approval is not a valid signed decision.');
      }
      const store = createApprovalsStore(db);
      const row = await store.get(action.projectId, id);
      if (!row || record.project !== action.projectId) throw invalid('The approval is not for this project.');
      if (row.decision_token !== presented) throw invalid('The approval does not match the recorded decision.');
      if (record.decision !== 'approved') throw invalid(`The request ${id} was denied.`);
      if (record.kind !== action.kind || record.resource !== action.resource) {
        throw invalid(`The approval is for ${record.kind} on '${record.resource}', not ${action.kind} on '${action.resource}'.`, { approvalId: id });
      }
      if (record.argsSha256 !== ctx.argsSha256) throw invalid('The approval is for different arguments.', { approvalId: id, approvedArgsSha256: record.argsSha256 });
      if (record.actor !== canonicalJson(action.actor)) throw invalid('The approval is for another actor.', { approvalId: id });
      if (!(await store.use(action.projectId, id, nowIso()))) throw invalid(`The approval ${id} was already used.`, { approvalId: id });
      ctx.details.approvalId = id;
    },
  };

  return {
    gate,

    async list(auth: AuthContext, status?: string): Promise<Approval[]> {
      const store = createApprovalsStore(db);
      await store.expire(auth.project.id, nowIso());
      return (await store.list(auth.project.id, status, 200)).map(toApproval);
    },

    async get(auth: AuthContext, id: string): Promise<Approval> {
      const store = createApprovalsStore(db);
      await store.expire(auth.project.id, nowIso());
      const row = await store.get(auth.project.id, id);
      if (!row) throw new ApiError('not_found', `No approval request ${id} in this project.`);
      return toApproval(row);
    },

    approve: (auth: AuthContext, id: string, note?: string) => decide(auth, id, 'approved', note),
    deny: (auth: AuthContext, id: string, note?: string) => decide(auth, id, 'denied', note),

    async webhook(auth: AuthContext): Promise<ApprovalWebhook> {
      const hook = await createApprovalsStore(db).webhook(auth.project.id);
      return { url: hook?.url ?? null, secret: null };
    },

    /** Sets (or, with null, removes) where approval events are posted; returns the new signing secret once. */
    async setWebhook(auth: AuthContext, url: string | null): Promise<ApprovalWebhook> {
      const secret = url ? `whsec_${randomBytes(24).toString('base64url')}` : null;
      await db.transaction().execute(async (trx) => {
        await createApprovalsStore(trx).setWebhook(auth.project.id, url && secret ? { url, secret, createdAt: nowIso() } : null);
        await journal.append({ projectId: auth.project.id, stream: APPROVALS_STREAM, actor: journalActorOf(auth), events: [{ type: 'approval.webhook_set', payload: { url } }] }, trx);
      });
      return { url, secret };
    },

  };
}

export type Approvals = ReturnType<typeof createApprovals>;
