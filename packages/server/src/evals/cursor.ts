import { ApiError } from '../http/api-error.js';

/** An opaque page cursor: the last row's key, base64url-encoded. */
export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The key of a cursor this server handed out, or validation_failed naming the parameter. */
export function decodeCursor(cursor: string, length: number): Array<string | number> {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(key) && key.length === length && key.every((k) => typeof k === 'string' || typeof k === 'number')) return key as Array<string | number>;
  } catch {
    // fall through
  }
  throw new ApiError('validation_failed', 'query.cursor: not a cursor from this list', { details: { issues: [{ path: 'query.cursor', message: 'Invalid cursor' }] } });
}
