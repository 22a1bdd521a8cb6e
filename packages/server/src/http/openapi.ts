import { OpenAPIHono, z } from '@hono/zod-openapi';
import { ERROR_CODES, type ErrorCode } from '@hangar/protocol';
import type { ZodType } from 'zod';
import { ApiError } from './api-error.js';
import type { AppEnv } from './app-env.js';

export const ErrorEnvelope = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      details: z.unknown().optional(),
      requestId: z.string(),
    }),
  })
  .openapi('Error');

/** A router whose validation failures become `validation_failed` errors listing every issue. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationFailed(result.target, result.error.issues);
    },
  });
}

/**
 * The `validation_failed` error of a request part (`json`, `query`, `param`…) that does not fit its
 * schema, listing every issue as `target.path.to.field`.
 * @example const parsed = schema.safeParse(body); if (!parsed.success) throw validationFailed('json', parsed.error.issues);
 */
export function validationFailed(target: string, zodIssues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): ApiError {
  const issues = zodIssues.map((i) => ({ path: [target, ...i.path.map(String)].join('.'), message: i.message }));
  const first = issues[0];
  return new ApiError('validation_failed', first ? `${first.path}: ${first.message}` : 'Invalid request.', {
    details: { issues },
  });
}

export function jsonBody<T extends ZodType>(schema: T) {
  return { content: { 'application/json': { schema } }, required: true } as const;
}

export function jsonResponse<T extends ZodType>(schema: T, description: string) {
  return { content: { 'application/json': { schema } }, description } as const;
}

/** The documented error responses of a route: 401 and 403 always, plus the codes given. */
export function errorResponses(...codes: ErrorCode[]) {
  const all: ErrorCode[] = ['unauthenticated', 'forbidden', 'validation_failed', ...codes];
  const byStatus: Record<number, ErrorCode[]> = {};
  for (const code of all) (byStatus[ERROR_CODES[code].status] ??= []).push(code);
  const responses: Record<number, { description: string; content: { 'application/json': { schema: typeof ErrorEnvelope } } }> = {};
  for (const [status, list] of Object.entries(byStatus)) {
    responses[Number(status)] = {
      description: `Error: ${list.join(', ')}`,
      content: { 'application/json': { schema: ErrorEnvelope } },
    };
  }
  return responses;
}
