/**
 * @hangar/sdk — what agent code, the CLI and the UI import to talk to Hangar.
 */
export { createClient } from './client.js';
export type { ClientOptions, HangarClient, PageOptions } from './client.js';
export { HangarError } from './errors.js';
