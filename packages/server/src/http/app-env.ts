import type { Actor, ApiKey, Project, Role } from '@hangar/protocol';
import type { Logger } from 'pino';
import type { ActorChain } from '../actions/action.js';

/** Facts of the credential (JWT) that authenticated a request. */
export interface CredentialAuth {
  /** The JWT id (jti). */
  id: string;
  agentId: string;
  /** Ids of the credentials this one was delegated from, root first. */
  ancestors: string[];
  /** Depth of delegation: 0 for a credential issued with a key, +1 per delegation. */
  depth: number;
  expiresAt: number;
}

/** Who is calling: set by the authentication middleware on every /v1 request. */
export interface AuthContext {
  /**
   * The API key that authenticated the request. For a credential, a stand-in that describes it (id =
   * the credential id, name = the agent, role 'ingest-only', prefix 'jwt') so key-based code still works.
   */
  key: ApiKey;
  project: Project;
  role: Role;
  /** Who acts, outermost first (user → agent → sub-agent); unset for API keys (see actorChainOf). */
  actor?: ActorChain;
  /** Set when a credential, not an API key, authenticated the request. */
  credential?: CredentialAuth;
}

/** The actor chain of a request: the credential's chain, or the API key alone. */
export function actorChainOf(auth: AuthContext): ActorChain {
  return auth.actor ?? { principals: [{ type: 'key', id: auth.key.id }], keyId: auth.key.id };
}

/** Whom the journal records as the author of a request's writes: the acting agent, or the key. */
export function journalActorOf(auth: AuthContext): Actor {
  const inner = actorChainOf(auth).principals.at(-1)!;
  return inner.type === 'service' ? { type: 'system', id: `service:${inner.id}` } : { type: inner.type, id: inner.id };
}

export interface AppEnv {
  Variables: {
    requestId: string;
    log: Logger;
    auth: AuthContext;
  };
}
