import { Hono } from 'hono';
import type { OpenDatabase } from '../db/database.js';
import { pendingMigrations } from '../db/migrations/index.js';
import type { AppEnv } from '../http/app-env.js';
import type { Metrics } from '../http/metrics.js';

export interface HealthOptions {
  database: OpenDatabase;
  metrics: Metrics;
  isShuttingDown: () => boolean;
}

/** /healthz (the process answers), /readyz (and can serve: store reachable, schema current), /metrics. */
export function healthRoutes({ database, metrics, isShuttingDown }: HealthOptions) {
  return new Hono<AppEnv>()
    .get('/healthz', (c) => c.json({ status: 'ok' }))
    .get('/readyz', async (c) => {
      if (isShuttingDown()) return c.json({ status: 'shutting_down' }, 503);
      try {
        const pending = await pendingMigrations(database.db, database.types);
        if (pending.length > 0) return c.json({ status: 'migrations_pending', pending }, 503);
        return c.json({ status: 'ready', database: database.describe.split(' ')[0] });
      } catch (err) {
        c.get('log').warn({ err }, 'readiness check failed');
        return c.json({ status: 'store_unreachable' }, 503);
      }
    })
    .get('/metrics', async (c) =>
      c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }),
    );
}
