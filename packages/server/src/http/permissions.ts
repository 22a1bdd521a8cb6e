import type { Role } from '@hangar/protocol';

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
