import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import { ApiError } from './api-error.js';
import type { AppEnv } from './app-env.js';
import { roleAllows, type Permission } from './permissions.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Takes the caller's x-request-id when it is sane, otherwise makes one; echoes it and logs with it. */
export function requestContext(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const given = c.req.header('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    const log = logger.child({ requestId });
    c.set('requestId', requestId);
    c.set('log', log);
    c.header('x-request-id', requestId);
    const started = performance.now();
    await next();
    log.info(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      },
      'request',
    );
  };
}

/**
 * Rejects bodies over `maxBytes` with 413 payload_too_large before reading them whole. A body with a
 * content-length is judged by it and left unread (Node's parser never reads past it): touching the
 * body stream here would make @hono/node-server build a whole WHATWG Request around the incoming
 * message, the largest single cost of a small gateway call. Only a body sent without one (chunked)
 * goes through Hono's bodyLimit, which counts it as it arrives.
 */
export function limitBody(maxBytes: number): MiddlewareHandler<AppEnv> {
  const tooLarge = () => {
    throw new ApiError('payload_too_large', `The request body is larger than the limit of ${maxBytes} bytes.`, {
      details: { limitBytes: maxBytes },
    });
  };
  const counted = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD') return next();
    const declared = c.req.header('content-length');
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(declared) > maxBytes) tooLarge();
      return next();
    }
    return counted(c, next);
  };
}

/** What an agent credential may do on API routes; its scopes and policy decide the rest. */
const CREDENTIAL_PERMISSIONS: ReadonlySet<Permission> = new Set(['read', 'ingest']);

/**
 * Route middleware: the authenticated key's role (or the credential) must grant the permission.
 * `agentAction` marks a route that is an agent's action run through the action pipeline (a
 * payment): a credential may call it whatever the permission, since its scopes, intent and policy
 * decide there; a key still needs the permission.
 */
export function requires(permission: Permission, options: { agentAction?: boolean } = {}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { role, credential } = c.get('auth');
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
    await next();
  };
}
