/**
 * @hangar/server — the Hangar API server. `createApp` builds the Hono app; `startServer` runs it.
 */
export { createApp } from './app.js';
export type { App, AppDeps } from './app.js';
export { loadConfig, DEFAULT_PORT } from './config.js';
export type { ServerConfig } from './config.js';
export { startServer } from './serve.js';
export type { RunningServer } from './serve.js';
export { openDatabase } from './db/database.js';
export type { OpenDatabase } from './db/database.js';
export { pendingMigrations, LATEST_MIGRATION } from './db/migrations/index.js';
export { generateApiKey } from './tenancy/api-keys.js';
