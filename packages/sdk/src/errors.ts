import { isErrorCode, type ErrorCode } from '@hangar/protocol';

/**
 * Every error the SDK throws for a failed API call. Branch on `code`, a documented error code.
 * @example
 * try { await hangar.keys.revoke(id) } catch (e) { if (e instanceof HangarError && e.code === 'not_found') … }
 */
export class HangarError extends Error {
  override readonly name = 'HangarError';
  readonly code: ErrorCode | 'network_error';
  readonly status: number;
  readonly requestId: string | undefined;
  readonly details: unknown;

  constructor(
    message: string,
    init: { code: ErrorCode | 'network_error'; status: number; requestId?: string; details?: unknown; cause?: unknown },
  ) {
    super(message, { cause: init.cause });
    this.code = init.code;
    this.status = init.status;
    this.requestId = init.requestId;
    this.details = init.details;
  }
}

/**
 * The action needs a person's approval (`approval_required`): nothing was done. Wait for the
 * approval `approvalId`, then present its token.
 * @example
 * catch (e) { if (e instanceof ApprovalRequiredError) console.log('waiting for', e.approvalId) }
 */
export class ApprovalRequiredError extends HangarError {
  readonly approvalId: string;

  constructor(message: string, init: { status: number; requestId?: string; details?: unknown }) {
    super(message, { ...init, code: 'approval_required' });
    this.approvalId = String((init.details as { approvalId?: unknown } | undefined)?.approvalId ?? '');
  }
}

/** Turns a non-2xx response into a HangarError, whatever its body. */
export async function errorFromResponse(res: Response): Promise<HangarError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; requestId?: unknown; details?: unknown } };
    const e = body.error;
    if (e && e.code === 'approval_required') {
      return new ApprovalRequiredError(String(e.message), {
        status: res.status,
        requestId: typeof e.requestId === 'string' ? e.requestId : undefined,
        details: e.details,
      });
    }
    if (e && isErrorCode(e.code)) {
      return new HangarError(String(e.message), {
        code: e.code,
        status: res.status,
        requestId: typeof e.requestId === 'string' ? e.requestId : undefined,
        details: e.details,
      });
    }
  } catch {
    // not an error envelope: fall through
  }
  return new HangarError(`HTTP ${res.status}: ${text.slice(0, 200)}`, {
    code: res.status >= 500 ? 'internal' : 'validation_failed',
    status: res.status,
  });
}
