import type { Role } from '@hangar/protocol';
import { ApiError } from './api-error.js';
import type { AuthContext } from './app-env.js';

/**
 * What a route needs: `read` (look at data), `ingest` (send data in: journal appends, traces, model
 * calls), `write` (change data), `admin` (keys, projects, settings).
 */
export type Permission = 'read' | 'ingest' | 'write' | 'admin';

const GRANTS: Record<Role, ReadonlySet<Permission>> = {
  admin: new Set(['read', 'ingest', 'write', 'admin']),
  member: new Set(['read', 'ingest', 'write']),
  'read-only': new Set(['read']),
  'ingest-only': new Set(['ingest']),
};

export function roleAllows(role: Role, permission: Permission): boolean {
  return GRANTS[role].has(permission);
}

/** What an agent credential may do on API routes; its scopes and policy decide the rest. */
const CREDENTIAL_PERMISSIONS: ReadonlySet<Permission> = new Set(['read', 'ingest']);

/**
 * Throws `forbidden` unless the authenticated key's role (or the credential) grants the permission.
 * `agentAction` marks an agent's action run through the action pipeline (a payment): a credential may
 * call it whatever the permission, since its scopes, intent and policy decide there; a key still needs
 * the permission.
 * @example assertPermitted(auth, 'ingest');
 */
export function assertPermitted(auth: AuthContext, permission: Permission, options: { agentAction?: boolean } = {}): void {
  const { role, credential } = auth;
  if (credential && !options.agentAction && !CREDENTIAL_PERMISSIONS.has(permission)) {
    throw new ApiError('forbidden', `A credential can read and ingest; this needs '${permission}' permission (use an API key).`, {
      details: { role: 'credential', needs: permission },
    });
  }
  if (!credential && !roleAllows(role, permission)) {
    throw new ApiError('forbidden', `A key with role '${role}' cannot do this; it needs '${permission}' permission.`, {
      details: { role, needs: permission },
    });
  }
}
