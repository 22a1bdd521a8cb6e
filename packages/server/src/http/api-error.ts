import { statusOf, type ErrorCode } from '@hangar/protocol';

/**
 * The one error type server code throws for a client-visible failure; `onError` turns it into the
 * error envelope with the status from the protocol's table.
 * @example throw new ApiError('not_found', `No key ${id} in this project.`)
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }

  get status(): number {
    return statusOf(this.code);
  }
}
