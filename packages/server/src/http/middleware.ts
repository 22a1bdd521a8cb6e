import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import { ApiError } from './api-error.js';
import type { AppEnv } from './app-env.js';
import { assertPermitted, type Permission } from './permissions.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's x-request-id when it is sane (1 to 128 of A-Z a-z 0-9 . _ : -), otherwise a new one. */
export function requestIdOf(given: string | undefined): string {
  return given && REQUEST_ID.test(given) ? given : randomUUID();
}

/** The one log line of a request, at info, once it is answered. */
export function logRequest(log: Logger, request: { method: string; path: string; status: number; started: number }): void {
  log.info(
    {
      method: request.method,
      path: request.path,
      status: request.status,
      ms: Math.round((performance.now() - request.started) * 10) / 10,
    },
    'request',
  );
}

/** Takes the caller's x-request-id when it is sane, otherwise makes one; echoes it and logs with it. */
export function requestContext(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const requestId = requestIdOf(c.req.header('x-request-id'));
    const log = logger.child({ requestId });
    c.set('requestId', requestId);
    c.set('log', log);
    c.header('x-request-id', requestId);
    const started = performance.now();
    await next();
    logRequest(log, { method: c.req.method, path: c.req.path, status: c.res.status, started });
  };
}

/** The error of a request body over the limit. */
export function bodyTooLarge(maxBytes: number): ApiError {
  return new ApiError('payload_too_large', `The request body is larger than the limit of ${maxBytes} bytes.`, {
    details: { limitBytes: maxBytes },
  });
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
    throw bodyTooLarge(maxBytes);
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

/** Route middleware: the authenticated key's role (or the credential) must grant the permission (see assertPermitted). */
export function requires(permission: Permission, options: { agentAction?: boolean } = {}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    assertPermitted(c.get('auth'), permission, options);
    await next();
  };
}
