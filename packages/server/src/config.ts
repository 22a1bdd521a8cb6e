import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_TRACE_BODY_BYTES } from './app.js';

export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  /** postgres://… or pglite:[dir]; unset = embedded SQLite in dataDir. */
  databaseUrl: string | undefined;
  /** Use this as the admin key instead of generating one (automation; also recovers a lost key). */
  adminKey: string | undefined;
  maxBodyBytes: number;
  /** Largest OTLP body on POST /v1/traces (also after gunzip). */
  maxTraceBodyBytes: number;
  logLevel: string;
  shutdownTimeoutMs: number;
  retentionIntervalMs: number;
  /** How often expired ledger holds are voided and due webhooks sent. */
  holdSweepIntervalMs: number;
  /** Payments left between the rail and the ledger longer than this are finished by the recovery sweep. */
  paymentRecoveryGraceMs: number;
  /** How often the online-eval worker scores new spans and checks drift. */
  onlineEvalIntervalMs: number;
  webDir: string | null;
  /**
   * HANGAR_SECRET: encrypts provider keys and signing keys at rest; unset (dev mode) = the gateway
   * refuses to store provider keys and signing keys are kept unencrypted.
   */
  secret: string | undefined;
  /**
   * HANGAR_PROVIDER_ALLOWED_HOSTS (comma-separated host names, `*.domain`, IPs, CIDRs): where provider
   * base URLs may point; null = anywhere but link-local and cloud metadata addresses.
   */
  providerAllowedHosts: string[] | null;
  /** HANGAR_PROVIDER_DENY_PRIVATE: provider base URLs may not point at loopback or private addresses. */
  providerDenyPrivate: boolean;
  /** How the built-in sandbox payment rail misbehaves: HANGAR_SANDBOX_RAIL_* (docs/ledger.md#rails). */
  sandboxRail: { failPayees: string[]; failureRate: number; delayMs: number; crashAfterCapture: boolean };
}

export const DEFAULT_PORT = 7070;

/** packages/web/dist, found from this file so it works from any working directory. */
export const DEFAULT_WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist');

function boolFrom(name: string, value: string | undefined): boolean {
  if (value === undefined || value === '' || /^(0|false|no)$/i.test(value)) return false;
  if (/^(1|true|yes)$/i.test(value)) return true;
  throw new Error(`${name} must be true or false (got '${value}').`);
}

function listFrom(value: string | undefined): string[] | null {
  const items = (value ?? '').split(/[\s,]+/).filter(Boolean);
  return items.length ? items : null;
}

function intFrom(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number (got '${value}').`);
  return n;
}

function fractionFrom(name: string, value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new Error(`${name} must be a number from 0 to 1 (got '${value}').`);
  return n;
}

/** Configuration from HANGAR_* environment variables, with explicit overrides (CLI flags) on top. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<ServerConfig> = {}): ServerConfig {
  const config: ServerConfig = {
    port: intFrom('HANGAR_PORT', env.HANGAR_PORT, DEFAULT_PORT),
    host: env.HANGAR_HOST || '127.0.0.1',
    dataDir: path.resolve(env.HANGAR_DATA_DIR || '.hangar'),
    databaseUrl: env.HANGAR_DATABASE_URL || undefined,
    adminKey: env.HANGAR_ADMIN_KEY || undefined,
    maxBodyBytes: intFrom('HANGAR_MAX_BODY_BYTES', env.HANGAR_MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES),
    maxTraceBodyBytes: intFrom('HANGAR_MAX_TRACE_BODY_BYTES', env.HANGAR_MAX_TRACE_BODY_BYTES, DEFAULT_MAX_TRACE_BODY_BYTES),
    logLevel: env.HANGAR_LOG_LEVEL || 'info',
    shutdownTimeoutMs: intFrom('HANGAR_SHUTDOWN_TIMEOUT_MS', env.HANGAR_SHUTDOWN_TIMEOUT_MS, 10_000),
    retentionIntervalMs: intFrom('HANGAR_RETENTION_INTERVAL_MS', env.HANGAR_RETENTION_INTERVAL_MS, 3_600_000),
    holdSweepIntervalMs: intFrom('HANGAR_HOLD_SWEEP_INTERVAL_MS', env.HANGAR_HOLD_SWEEP_INTERVAL_MS, 5_000),
    paymentRecoveryGraceMs: intFrom('HANGAR_PAYMENT_RECOVERY_GRACE_MS', env.HANGAR_PAYMENT_RECOVERY_GRACE_MS, 60_000),
    onlineEvalIntervalMs: intFrom('HANGAR_ONLINE_EVAL_INTERVAL_MS', env.HANGAR_ONLINE_EVAL_INTERVAL_MS, 10_000),
    webDir: DEFAULT_WEB_DIR,
    secret: env.HANGAR_SECRET || undefined,
    providerAllowedHosts: listFrom(env.HANGAR_PROVIDER_ALLOWED_HOSTS),
    providerDenyPrivate: boolFrom('HANGAR_PROVIDER_DENY_PRIVATE', env.HANGAR_PROVIDER_DENY_PRIVATE),
    sandboxRail: {
      failPayees: (env.HANGAR_SANDBOX_RAIL_FAIL_PAYEES ?? '').split(',').map((p) => p.trim()).filter(Boolean),
      failureRate: fractionFrom('HANGAR_SANDBOX_RAIL_FAILURE_RATE', env.HANGAR_SANDBOX_RAIL_FAILURE_RATE),
      delayMs: intFrom('HANGAR_SANDBOX_RAIL_DELAY_MS', env.HANGAR_SANDBOX_RAIL_DELAY_MS, 0),
      crashAfterCapture: boolFrom('HANGAR_SANDBOX_RAIL_CRASH_AFTER_CAPTURE', env.HANGAR_SANDBOX_RAIL_CRASH_AFTER_CAPTURE),
    },
  };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (config as unknown as Record<string, unknown>)[k] = v;
  if (overrides.dataDir) config.dataDir = path.resolve(overrides.dataDir);
  return config;
}
