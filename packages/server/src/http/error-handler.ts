import type { ErrorBody } from '@hangar/protocol';
import type { Context } from 'hono';
import type { Logger } from 'pino';
import { HTTPException } from 'hono/http-exception';
import { ApiError } from './api-error.js';
import type { AppEnv } from './app-env.js';

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException) {
    if (err.status === 400 && /JSON/i.test(err.message)) {
      return new ApiError('invalid_json', 'The request body is not valid JSON.', { cause: err });
    }
    if (err.status === 413) return new ApiError('payload_too_large', 'The request body is too large.');
    if (err.status === 415) {
      return new ApiError('unsupported_media_type', 'Send the body as application/json.', { cause: err });
    }
    if (err.status === 400) return new ApiError('validation_failed', err.message, { cause: err });
  }
  return new ApiError('internal', 'Something went wrong on our side; the request id is in the logs.', {
    cause: err,
  });
}

/**
 * The one place errors become responses: the status from the protocol's table and
 * `{ error: { code, message, details?, requestId } }`. An unknown error is logged with its cause (on
 * `log()`, the request's logger) and becomes `internal`. `onError` and the model-call wire path
 * (gateway-wire.ts) both answer with it.
 * @example const { status, body } = errorEnvelope(err, requestId, () => log);
 */
export function errorEnvelope(err: unknown, requestId: string, log: () => Logger | undefined): { status: number; body: ErrorBody } {
  const apiError = toApiError(err);
  if (apiError.code === 'internal') log()?.error({ err }, 'unhandled error');
  const body: ErrorBody = {
    error: {
      code: apiError.code,
      message: apiError.message,
      ...(apiError.details === undefined ? {} : { details: apiError.details }),
      requestId,
    },
  };
  return { status: apiError.status, body };
}

/** Hono's error handler: the envelope of `errorEnvelope`. */
export function onError(err: unknown, c: Context<AppEnv>): Response {
  const { status, body } = errorEnvelope(err, c.get('requestId') ?? 'none', () => c.get('log'));
  return c.json(body, status as 400);
}
