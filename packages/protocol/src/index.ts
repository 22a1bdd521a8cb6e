/**
 * @hangar/protocol — the wire contract shared by server, SDK, CLI and UI: zod schemas, wire types
 * and the error-code table. No Node-only imports.
 */
export { ERROR_CODES, statusOf, isErrorCode } from './errors.js';
export type { ErrorCode, ErrorBody } from './errors.js';
export * from './schemas.js';
export * from './traces.js';
export * from './ledger.js';
export * from './payments.js';
export * from './actions.js';
export * from './prices.js';
export * from './gateway.js';
export * from './identity.js';
export * from './evals.js';
