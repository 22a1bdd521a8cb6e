import type { Kysely, Selectable } from 'kysely';
import type { Approval } from '@hangar/protocol';
import type { Database } from '../db/schema.js';

export type ApprovalRow = Selectable<Database['approvals']>;

export function toApproval(row: ApprovalRow): Approval {
  return {
    id: row.id,
    projectId: row.project_id,
    status: row.status as Approval['status'],
    kind: row.kind as Approval['kind'],
    resource: row.resource,
    args: JSON.parse(row.args) as unknown,
    argsSha256: row.args_sha256,
    costMicros: row.cost_micros === null ? null : Number(row.cost_micros),
    actor: JSON.parse(row.actor) as Approval['actor'],
    reason: row.reason,
    policyIds: JSON.parse(row.policy_ids) as string[],
    requestedAt: row.requested_at,
    expiresAt: row.expires_at,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    note: row.note,
    token: row.decision_token,
    validUntil: row.valid_until,
    usedAt: row.used_at,
  };
}

/** Approval requests, their signed decisions, and where to notify. */
export function createApprovalsStore(db: Kysely<Database>) {
  return {
    async insert(row: ApprovalRow): Promise<void> {
      await db.insertInto('approvals').values(row).execute();
    },

    async get(projectId: string, id: string): Promise<ApprovalRow | undefined> {
      return db.selectFrom('approvals').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
    },

    /** A pending request for the same action by the same actor, so a retry does not ask twice. */
    async findPending(projectId: string, match: { kind: string; resource: string; argsSha256: string; actor: string }, now: string) {
      return db
        .selectFrom('approvals')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('status', '=', 'pending')
        .where('kind', '=', match.kind)
        .where('resource', '=', match.resource)
        .where('args_sha256', '=', match.argsSha256)
        .where('actor', '=', match.actor)
        .where('expires_at', '>', now)
        .executeTakeFirst();
    },

    async list(projectId: string, status: string | undefined, limit: number): Promise<ApprovalRow[]> {
      let q = db.selectFrom('approvals').selectAll().where('project_id', '=', projectId);
      if (status) q = q.where('status', '=', status);
      return q.orderBy('requested_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    },

    /** Pending requests past their expiry become expired. */
    async expire(projectId: string, now: string): Promise<void> {
      await db.updateTable('approvals').set({ status: 'expired' }).where('project_id', '=', projectId).where('status', '=', 'pending').where('expires_at', '<=', now).execute();
    },

    /** Records a decision on a pending request; false when it was no longer pending. */
    async decide(projectId: string, id: string, d: { status: 'approved' | 'denied'; decidedBy: string; decidedAt: string; note: string | null; token: string; validUntil: string }): Promise<boolean> {
      const r = await db
        .updateTable('approvals')
        .set({ status: d.status, decided_by: d.decidedBy, decided_at: d.decidedAt, note: d.note, decision_token: d.token, valid_until: d.validUntil })
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    /** Marks an approval used, once: false when it was used (or is not approved). */
    async use(projectId: string, id: string, at: string): Promise<boolean> {
      const r = await db
        .updateTable('approvals')
        .set({ status: 'used', used_at: at })
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .where('status', '=', 'approved')
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    async webhook(projectId: string) {
      return db.selectFrom('approval_webhooks').selectAll().where('project_id', '=', projectId).executeTakeFirst();
    },

    async setWebhook(projectId: string, hook: { url: string; secret: string; createdAt: string } | null): Promise<void> {
      await db.deleteFrom('approval_webhooks').where('project_id', '=', projectId).execute();
      if (hook) await db.insertInto('approval_webhooks').values({ project_id: projectId, url: hook.url, secret: hook.secret, created_at: hook.createdAt }).execute();
    },
  };
}
