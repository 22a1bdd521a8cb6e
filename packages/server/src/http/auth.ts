import type { ConfigGeneration } from '../cache/config-generation.js';
import type { Identity } from '../identity/identity-service.js';
import type { Tenancy } from '../tenancy/tenancy-service.js';
import type { AuthContext } from './app-env.js';

/** Reads one request header by its lower-case name. */
export type HeaderReader = (name: string) => string | undefined;

export interface AuthenticatorDeps {
  generation: ConfigGeneration;
  identity: Pick<Identity, 'authenticate'>;
  tenancy: Pick<Tenancy, 'authenticate'>;
}

/**
 * Who sends a /v1 request: the key in `Authorization: Bearer …`, `x-hangar-key` or `x-api-key` (how the
 * Anthropic SDK sends its key, so it can be pointed at the gateway unchanged), an agent credential (a
 * JWT) or an API key (hk_…). Throws the ApiError of a missing, malformed, unknown, revoked or expired one.
 * The /v1 middleware and the model-call wire path (gateway-wire.ts) both authenticate with it.
 * @example const auth = await authenticate((name) => c.req.header(name));
 */
export function createAuthenticator({ generation, identity, tenancy }: AuthenticatorDeps) {
  return async function authenticate(header: HeaderReader): Promise<AuthContext> {
    const bearer = header('authorization')?.match(/^Bearer\s+(.+)$/i)?.[1];
    const presented = bearer ?? header('x-hangar-key') ?? header('x-api-key');
    // before any cached read: a key revoked (a route, policy, budget changed) by any process applies now
    await generation.check();
    return presented && looksLikeJwt(presented) ? identity.authenticate(presented) : tenancy.authenticate(presented);
  };
}

export type Authenticate = ReturnType<typeof createAuthenticator>;

/** A compact JWS (three base64url parts, the last possibly empty) rather than an hk_ key. */
function looksLikeJwt(value: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(value);
}
