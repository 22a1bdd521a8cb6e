import type { Kysely, Selectable } from 'kysely';
import type { ApiKey, Project, Role } from '@hangar/protocol';
import type { Database } from '../db/schema.js';

type ProjectRow = Selectable<Database['projects']>;
type KeyRow = Selectable<Database['api_keys']>;

export function toProject(row: ProjectRow): Project {
  return {
    id: row.id,
    organizationId: row.organization_id,
    name: row.name,
    retentionDays: row.retention_days,
    createdAt: row.created_at,
  };
}

export function toApiKey(row: KeyRow): ApiKey {
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    role: row.role as Role,
    prefix: row.prefix,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

export interface NewKeyRow {
  id: string;
  projectId: string;
  name: string;
  role: Role;
  prefix: string;
  keyHash: string;
  createdAt: string;
}

/** Organizations, projects and API keys. */
export function createTenancyStore(db: Kysely<Database>) {
  return {
    /** Inserts the organization unless it exists; true when this call created it. */
    async insertOrganization(org: { id: string; name: string; createdAt: string }): Promise<boolean> {
      const result = await db
        .insertInto('organizations')
        .values({ id: org.id, name: org.name, created_at: org.createdAt })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    async getOrganization(id: string) {
      return db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
    },

    async insertProject(project: Project): Promise<void> {
      await db
        .insertInto('projects')
        .values({
          id: project.id,
          organization_id: project.organizationId,
          name: project.name,
          retention_days: project.retentionDays,
          created_at: project.createdAt,
        })
        .execute();
    },

    async getProject(id: string): Promise<Project | undefined> {
      const row = await db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toProject(row);
    },

    async listProjectsWithRetention(): Promise<Project[]> {
      const rows = await db.selectFrom('projects').selectAll().where('retention_days', 'is not', null).execute();
      return rows.map(toProject);
    },

    async updateProject(id: string, changes: { name?: string; retentionDays?: number | null }): Promise<void> {
      const set: Partial<ProjectRow> = {};
      if (changes.name !== undefined) set.name = changes.name;
      if (changes.retentionDays !== undefined) set.retention_days = changes.retentionDays;
      if (Object.keys(set).length === 0) return;
      await db.updateTable('projects').set(set).where('id', '=', id).execute();
    },

    async insertKey(key: NewKeyRow): Promise<ApiKey> {
      const row: KeyRow = {
        id: key.id,
        project_id: key.projectId,
        name: key.name,
        role: key.role,
        prefix: key.prefix,
        key_hash: key.keyHash,
        created_at: key.createdAt,
        last_used_at: null,
        revoked_at: null,
      };
      await db.insertInto('api_keys').values(row).execute();
      return toApiKey(row);
    },

    async hasKeyHash(keyHash: string): Promise<boolean> {
      const row = await db.selectFrom('api_keys').select('id').where('key_hash', '=', keyHash).executeTakeFirst();
      return row !== undefined;
    },

    /** The key with this hash together with its project, for authentication. */
    async findKeyByHash(keyHash: string) {
      const row = await db
        .selectFrom('api_keys')
        .innerJoin('projects', 'projects.id', 'api_keys.project_id')
        .selectAll('api_keys')
        .select([
          'projects.organization_id as p_organization_id',
          'projects.name as p_name',
          'projects.retention_days as p_retention_days',
          'projects.created_at as p_created_at',
        ])
        .where('api_keys.key_hash', '=', keyHash)
        .executeTakeFirst();
      if (!row) return undefined;
      const project = toProject({
        id: row.project_id,
        organization_id: row.p_organization_id,
        name: row.p_name,
        retention_days: row.p_retention_days,
        created_at: row.p_created_at,
      });
      return { key: toApiKey(row), project };
    },

    async listKeys(projectId: string): Promise<ApiKey[]> {
      const rows = await db
        .selectFrom('api_keys')
        .selectAll()
        .where('project_id', '=', projectId)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .execute();
      return rows.map(toApiKey);
    },

    async getKey(projectId: string, id: string): Promise<ApiKey | undefined> {
      const row = await db
        .selectFrom('api_keys')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toApiKey(row);
    },

    /** Marks the key revoked (once; a second revoke keeps the first time). */
    async revokeKey(projectId: string, id: string, at: string): Promise<void> {
      await db
        .updateTable('api_keys')
        .set({ revoked_at: at })
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .execute();
    },

    async touchKey(id: string, at: string): Promise<void> {
      await db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
    },
  };
}

export type TenancyStore = ReturnType<typeof createTenancyStore>;
