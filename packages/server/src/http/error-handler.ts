import type { ErrorBody } from '@hangar/protocol';
import type { Context } from 'hono';
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

/** The one place errors become responses: `{ error: { code, message, details?, requestId } }`. */
export function onError(err: unknown, c: Context<AppEnv>): Response {
  const apiError = toApiError(err);
  const requestId = c.get('requestId') ?? 'none';
  if (apiError.code === 'internal') c.get('log')?.error({ err }, 'unhandled error');
  const body: ErrorBody = {
    error: {
      code: apiError.code,
      message: apiError.message,
      ...(apiError.details === undefined ? {} : { details: apiError.details }),
      requestId,
    },
  };
  return c.json(body, apiError.status as 400);
}
