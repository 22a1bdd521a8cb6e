import type { Kysely } from 'kysely';
import type { ApiKey, CreatedKey, CreatedProject, Project, Role, UpdateProjectRequest, Whoami } from '@hangar/protocol';
import type { Database } from '../db/schema.js';
import { ApiError } from '../http/api-error.js';
import { createConfigGeneration, type ConfigGeneration } from '../cache/config-generation.js';
import type { AuthContext } from '../http/app-env.js';
import type { Journal } from '../journal/journal-service.js';
import { newId, nowIso } from '../util/ids.js';
import { generateApiKey, hashApiKey, isWellFormedKey, keyPrefix } from './api-keys.js';
import { createTenancyStore, type TenancyStore } from './tenancy-store.js';

type FoundKey = NonNullable<Awaited<ReturnType<TenancyStore['findKeyByHash']>>>;

export const DEFAULT_ORGANIZATION_ID = 'org_default';
export const DEFAULT_PROJECT_ID = 'proj_default';
/** The journal stream where key and project changes of a project are recorded. */
export const ADMIN_STREAM = 'admin';
const TOUCH_INTERVAL_MS = 60_000;

export interface TenancyOptions {
  db: Kysely<Database>;
  journal: Journal;
  /** Invalidates this process's cache of keys when any process revokes one (shared by the services). */
  generation?: ConfigGeneration;
}

/** Organizations → projects → API keys; authentication of every request. */
export function createTenancy({ db, journal, generation = createConfigGeneration({ db }) }: TenancyOptions) {
  const lastTouched = new Map<string, number>();
  // key hash → key and project: every request needs it; a revocation bumps the generation
  const keys = generation.cache<FoundKey | undefined>();

  async function insertKey(
    trx: Kysely<Database>,
    input: { projectId: string; name: string; role: Role; secret?: string; actorId: string },
  ): Promise<CreatedKey> {
    const secret = input.secret ?? generateApiKey();
    const key = await createTenancyStore(trx).insertKey({
      id: newId('key'),
      projectId: input.projectId,
      name: input.name,
      role: input.role,
      prefix: keyPrefix(secret),
      keyHash: hashApiKey(secret),
      createdAt: nowIso(),
    });
    await journal.append(
      {
        projectId: input.projectId,
        stream: ADMIN_STREAM,
        actor: { type: input.actorId === 'system' ? 'system' : 'key', id: input.actorId },
        events: [{ type: 'key.created', payload: { keyId: key.id, name: key.name, role: key.role, prefix: key.prefix } }],
      },
      trx,
    );
    return { ...key, key: secret };
  }

  return {
    /**
     * First start: creates the default organization, project and an admin key, and returns the key to
     * print once. With `adminKey` (HANGAR_ADMIN_KEY), that key is the admin key — and is added again if
     * it is missing, which is also how an operator recovers a lost admin key.
     */
    async bootstrap(options: { adminKey?: string | undefined } = {}): Promise<{ createdKey: string | null }> {
      if (options.adminKey !== undefined && !isWellFormedKey(options.adminKey)) {
        throw new Error('HANGAR_ADMIN_KEY must look like hk_ followed by 32 letters and digits (e.g. from `hangar keys generate`).');
      }
      return db.transaction().execute(async (trx) => {
        const store = createTenancyStore(trx);
        const createdAt = nowIso();
        const fresh = await store.insertOrganization({ id: DEFAULT_ORGANIZATION_ID, name: 'Default', createdAt });
        if (fresh) {
          await store.insertProject({
            id: DEFAULT_PROJECT_ID,
            organizationId: DEFAULT_ORGANIZATION_ID,
            name: 'Default',
            retentionDays: null,
            createdAt,
          });
          const key = await insertKey(trx, {
            projectId: DEFAULT_PROJECT_ID,
            name: 'admin',
            role: 'admin',
            secret: options.adminKey,
            actorId: 'system',
          });
          return { createdKey: options.adminKey ? null : key.key };
        }
        if (options.adminKey && !(await store.hasKeyHash(hashApiKey(options.adminKey)))) {
          await insertKey(trx, {
            projectId: DEFAULT_PROJECT_ID,
            name: 'admin (HANGAR_ADMIN_KEY)',
            role: 'admin',
            secret: options.adminKey,
            actorId: 'system',
          });
        }
        return { createdKey: null };
      });
    },

    /** Resolves a presented key to who is calling, or throws 401 with the reason. */
    async authenticate(presented: string | undefined): Promise<AuthContext> {
      if (!presented) {
        throw new ApiError('unauthenticated', 'Send an API key as "Authorization: Bearer hk_…" or "x-hangar-key".');
      }
      if (!isWellFormedKey(presented)) throw new ApiError('invalid_key', 'The API key is not valid.');
      const hash = hashApiKey(presented);
      const found = await keys.get(hash, () => createTenancyStore(db).findKeyByHash(hash));
      if (!found) throw new ApiError('invalid_key', 'The API key is not valid.');
      if (found.key.revokedAt) {
        throw new ApiError('key_revoked', `The API key ${found.key.prefix}… was revoked at ${found.key.revokedAt}.`);
      }
      const now = Date.now();
      if (now - (lastTouched.get(found.key.id) ?? 0) > TOUCH_INTERVAL_MS) {
        lastTouched.set(found.key.id, now);
        await createTenancyStore(db).touchKey(found.key.id, new Date(now).toISOString());
      }
      return { key: found.key, project: found.project, role: found.key.role };
    },

    async whoami(auth: AuthContext): Promise<Whoami> {
      const org = await createTenancyStore(db).getOrganization(auth.project.organizationId);
      return {
        key: auth.key,
        project: auth.project,
        organization: { id: auth.project.organizationId, name: org?.name ?? '' },
      };
    },

    /**
     * A key belongs to one project and sees only it — even an admin key sees no sibling project here,
     * not even its name. (Switching projects means holding a key for each.) The one read across projects
     * is an admin's GET /v1/organization/spend: names and span-cost totals, see spend/spend-service.ts.
     */
    async listProjects(auth: AuthContext): Promise<Project[]> {
      return [auth.project];
    },

    async createProject(auth: AuthContext, name: string): Promise<CreatedProject> {
      return db.transaction().execute(async (trx) => {
        const project: Project = {
          id: newId('proj'),
          organizationId: auth.project.organizationId,
          name,
          retentionDays: null,
          createdAt: nowIso(),
        };
        await createTenancyStore(trx).insertProject(project);
        const key = await insertKey(trx, { projectId: project.id, name: 'admin', role: 'admin', actorId: auth.key.id });
        return { project, key };
      });
    },

    async updateProject(auth: AuthContext, changes: UpdateProjectRequest): Promise<Project> {
      return db.transaction().execute(async (trx) => {
        const store = createTenancyStore(trx);
        await store.updateProject(auth.project.id, changes);
        await generation.bump(trx);
        await journal.append(
          {
            projectId: auth.project.id,
            stream: ADMIN_STREAM,
            actor: { type: 'key', id: auth.key.id },
            events: [{ type: 'project.updated', payload: changes }],
          },
          trx,
        );
        return (await store.getProject(auth.project.id))!;
      });
    },

    listKeys(projectId: string): Promise<ApiKey[]> {
      return createTenancyStore(db).listKeys(projectId);
    },

    createKey(auth: AuthContext, input: { name: string; role: Role }): Promise<CreatedKey> {
      return db
        .transaction()
        .execute((trx) => insertKey(trx, { projectId: auth.project.id, ...input, actorId: auth.key.id }));
    },

    async revokeKey(auth: AuthContext, id: string): Promise<ApiKey> {
      return db.transaction().execute(async (trx) => {
        const store = createTenancyStore(trx);
        const key = await store.getKey(auth.project.id, id);
        if (!key) throw new ApiError('not_found', `No API key ${id} in this project.`);
        if (key.revokedAt) return key;
        await store.revokeKey(auth.project.id, id, nowIso());
        await generation.bump(trx);
        await journal.append(
          {
            projectId: auth.project.id,
            stream: ADMIN_STREAM,
            actor: { type: 'key', id: auth.key.id },
            events: [{ type: 'key.revoked', payload: { keyId: id } }],
          },
          trx,
        );
        return (await store.getKey(auth.project.id, id))!;
      });
    },
  };
}

export type Tenancy = ReturnType<typeof createTenancy>;
