/**
 * The one table of error codes. Every error Hangar returns carries one of these codes in
 * `{ "error": { "code", "message", "details"?, "requestId" } }`, with the HTTP status listed here.
 * Codes are stable: clients branch on them, so a code is added, never renamed.
 */
export const ERROR_CODES = {
  /** The request body is not valid JSON. */
  invalid_json: { status: 400, summary: 'The request body is not valid JSON.' },
  /** The request is well-formed JSON but fails validation; `details.issues` lists each problem. */
  validation_failed: { status: 400, summary: 'The request failed validation.' },
  /** No API key or credential was presented. */
  unauthenticated: { status: 401, summary: 'No API key was presented.' },
  /** The presented key is unknown or malformed. */
  invalid_key: { status: 401, summary: 'The API key is not valid.' },
  /** The presented key was revoked. */
  key_revoked: { status: 401, summary: 'The API key was revoked.' },
  /** The key's role does not allow this operation. */
  forbidden: { status: 403, summary: "The key's role does not allow this operation." },
  /** Policy refused the action (or no policy allows it: tools, code execution and payments are denied by default). */
  policy_denied: { status: 403, summary: 'Policy does not allow this action.' },
  /** The credential (a JWT) is malformed, forged, signed by an unknown key, not yet valid, for another audience, or unknown. */
  credential_invalid: { status: 401, summary: 'The credential is not valid.' },
  /** The credential has expired: ask for a new one. */
  credential_expired: { status: 401, summary: 'The credential has expired.' },
  /** The credential, one it was delegated from, or its agent was revoked. */
  credential_revoked: { status: 401, summary: 'The credential was revoked.' },
  /** A delegation asked for more than the delegating credential has (scopes, spend cap or lifetime). */
  delegation_escalation: { status: 403, summary: 'A delegated credential can only narrow, never widen.' },
  /** The action is outside the intent its credential or run declared. */
  intent_violation: { status: 403, summary: 'The action is outside the declared intent.' },
  /** The action would take the credential (or one it was delegated from) past its spend cap. */
  spend_cap_exceeded: { status: 403, summary: "The action would exceed the credential's spend cap." },
  /** Policy allows the action once approved; `details.approvalId` names the request to wait on. */
  /** The presented approval is forged, expired, already used, denied, or for a different action or arguments. */
  approval_invalid: { status: 403, summary: 'The approval does not allow this action.' },
  /** The resource does not exist in this project (or belongs to another one). */
  not_found: { status: 404, summary: 'The resource was not found in this project.' },
  /** The HTTP method is not supported on this path. */
  method_not_allowed: { status: 405, summary: 'The method is not allowed on this path.' },
  /** A journal append named an expected sequence number that is no longer the stream's head. */
  seq_conflict: { status: 409, summary: 'The stream has moved past the expected sequence number.' },
  /** The request conflicts with the current state of a resource. */
  conflict: { status: 409, summary: 'The request conflicts with the current state.' },
  /** An idempotency key was used before with a different request body; nothing was changed. */
  idempotency_conflict: { status: 409, summary: 'The idempotency key was used with a different request.' },
  /** A transfer or hold would take an account past one of its bounds; nothing was changed. */
  insufficient_balance: { status: 409, summary: "The transfer would take an account past its bound." },
  /** A budget in the action's chain has not enough left; `details` names the budget and what remains. */
  budget_exceeded: { status: 402, summary: 'A budget does not have enough left for this action.' },
  /** A payment breaks a payment limit or its mandate; `details.reason` says which rule. */
  payment_refused: { status: 403, summary: 'The payment is not allowed by its limits or mandate.' },
  /** The action needs a human's approval first; the request was recorded, nothing was done. */
  approval_required: { status: 403, summary: 'The action needs approval before it can run.' },
  /** The request body exceeds the configured size limit. */
  payload_too_large: { status: 413, summary: 'The request body is too large.' },
  /** The request's content type is not supported on this route. */
  unsupported_media_type: { status: 415, summary: 'The content type is not supported.' },
  /** The gateway has no route, built-in model or provider for the requested model. */
  model_not_found: { status: 404, summary: 'No route or provider for this model.' },
  /** The model's provider does not speak this endpoint's wire format (e.g. an Anthropic provider on /v1/chat/completions). */
  model_not_supported: { status: 400, summary: 'The model cannot be called through this endpoint.' },
  /**
   * The request uses a feature the route's other wire format cannot express (OpenAI `n > 1` or
   * `logprobs` to an Anthropic model, Anthropic `thinking` to an OpenAI one…); `details.parameter` names it.
   */
  translation_unsupported: {
    status: 400,
    summary: "The request uses a feature the target provider's wire format cannot express.",
  },
  /** A provider base URL points at an address the server's operator does not allow (cloud metadata, link-local, or outside HANGAR_PROVIDER_ALLOWED_HOSTS / private when denied). */
  provider_url_not_allowed: { status: 403, summary: 'The provider base URL points at an address this server may not call.' },
  /** A provider key was sent but the server has no HANGAR_SECRET to encrypt it with (or cannot open a stored one). */
  secret_not_configured: { status: 409, summary: 'HANGAR_SECRET is not configured for provider keys.' },
  /** The upstream provider refused the request (a 4xx other than 429); `details` has its status and error. */
  upstream_rejected: { status: 422, summary: 'The upstream provider rejected the request.' },
  /** Every target answered 429; `Retry-After` says when to try again. */
  upstream_rate_limited: { status: 429, summary: 'The upstream provider is rate limiting.' },
  /** Every target failed with a 5xx or a connection error. */
  upstream_unavailable: { status: 502, summary: 'The upstream provider is not available.' },
  /** The per-try or total timeout of the route passed without an answer. */
  upstream_timeout: { status: 504, summary: 'The upstream provider did not answer in time.' },
  /** An unexpected server error; the cause is logged under the request id, never returned. */
  internal: { status: 500, summary: 'An internal error occurred.' },
  /** The server is starting, shutting down, or cannot reach its store. */
  unavailable: { status: 503, summary: 'The service is not available right now.' },
} as const satisfies Record<string, { status: number; summary: string }>;

/** A documented error code, e.g. `'validation_failed'`. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The HTTP status for an error code. @example statusOf('not_found') // 404 */
export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}

/** Whether a string is a documented error code. @example isErrorCode('forbidden') // true */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** The body of every error response. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown; requestId: string };
}
