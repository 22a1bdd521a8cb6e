import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AppEnv } from './app-env.js';

/** Prometheus metrics for one app: request counts and latency per route, plus process metrics. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hangar_' });
  const requests = new Counter({
    name: 'hangar_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'hangar_http_request_duration_seconds',
    help: 'HTTP request latency by method and route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });

  /** Counts one answered request; `route` is the pattern it matched (`/v1/keys/:id`), `started` from performance.now(). */
  const observe = (method: string, route: string, status: number, started: number) => {
    requests.inc({ method, route, status: String(status) });
    duration.observe({ method, route }, (performance.now() - started) / 1000);
  };
  const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      // the route pattern, not the raw path, so ids do not explode the label set
      const matched = routePath(c);
      observe(c.req.method, matched === '/*' || !matched ? 'unmatched' : matched, c.res.status, started);
    }
  };

  return { registry, middleware, observe };
}

export type Metrics = ReturnType<typeof createMetrics>;
