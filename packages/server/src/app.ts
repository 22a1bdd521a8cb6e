import type { Logger } from 'pino';
import type { ActionPipeline } from './actions/action-pipeline.js';
import type { OpenDatabase } from './db/database.js';
import { approvalsRoutes } from './approvals/approvals-routes.js';
import type { Approvals } from './approvals/approvals-service.js';
import { healthRoutes } from './health/health-routes.js';
import { identityRoutes, jwksRoutes } from './identity/identity-routes.js';
import type { Identity } from './identity/identity-service.js';
import { policyRoutes } from './policy/policy-routes.js';
import type { Policies } from './policy/policy-service.js';
import { ApiError } from './http/api-error.js';
import { onError } from './http/error-handler.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import { limitBody, requestContext } from './http/middleware.js';
import { createRouter } from './http/openapi.js';
import { journalRoutes } from './journal/journal-routes.js';
import type { Journal } from './journal/journal-service.js';
import type { Tenancy } from './tenancy/tenancy-service.js';
import type { Traces } from './traces/traces-service.js';
import { tenancyRoutes } from './tenancy/tenancy-routes.js';
import { webRoutes } from './web/web-routes.js';

export interface AppDeps {
  database: OpenDatabase;
  tenancy: Tenancy;
  journal: Journal;
  traces: Traces;
  /** The one path of every agent action (model calls, tools, payments…). */
  actions: ActionPipeline;
  logger: Logger;
  /** Agents and credentials; without it, only API keys authenticate. */
  identity?: Identity;
  /** Cedar policies per project (the authorize stage of `actions` decides with them). */
  policies?: Policies;
  /** Approval requests and signed decisions. */
  approvals?: Approvals;
  metrics?: Metrics;
  /** Largest accepted request body; 1 MiB by default. */
  maxBodyBytes?: number;
  /** The built web UI (packages/web/dist); null serves a page that says how to build it. */
  webDir?: string | null;
  /** Readiness turns 503 while this is true. */
  isShuttingDown?: () => boolean;
  version?: string;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** Builds the Hono app. Never listens: `serve` (or a test's `app.request()`) does. */
export function createApp(deps: AppDeps) {
  const metrics = deps.metrics ?? createMetrics();
  const app = createRouter();
  app.onError(onError);
  app.use('*', requestContext(deps.logger));
  app.use('*', metrics.middleware);

  app.route('/', healthRoutes({ database: deps.database, metrics, isShuttingDown: deps.isShuttingDown ?? (() => false) }));

  if (deps.identity) app.route('/', jwksRoutes(deps.identity));

  app.use('/v1/*', limitBody(deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES));
  app.use('/v1/*', async (c, next) => {
    const bearer = c.req.header('authorization')?.match(/^Bearer\s+(.+)$/i)?.[1];
    const presented = bearer ?? c.req.header('x-hangar-key');
    c.set(
      'auth',
      deps.identity && presented && looksLikeJwt(presented)
        ? await deps.identity.authenticate(presented)
        : await deps.tenancy.authenticate(presented),
    );
    await next();
  });
  app.route('/', tenancyRoutes(deps.tenancy));
  app.route('/', journalRoutes(deps.journal));
  if (deps.identity) app.route('/', identityRoutes(deps.identity));
  if (deps.policies) app.route('/', policyRoutes(deps.policies));
  if (deps.approvals) app.route('/', approvalsRoutes(deps.approvals));
  app.all('/v1/*', (c) => {
    throw new ApiError('not_found', `No route ${c.req.method} ${c.req.path}. The API is described at /openapi.json.`);
  });

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Hangar API',
      version: deps.version ?? '0.1.0',
      description: 'Self-hosted infrastructure for AI agents in production.',
    },
    security: [{ bearer: [] }],
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key (hk_…) or an agent credential (a JWT)',
  });

  app.route('/', webRoutes(deps.webDir ?? null));
  app.notFound((c) => onError(new ApiError('not_found', `No route ${c.req.method} ${c.req.path}.`), c));
  return app;
}

export type App = ReturnType<typeof createApp>;

/** A compact JWS (three base64url parts, the last possibly empty) rather than an hk_ key. */
function looksLikeJwt(value: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(value);
}
