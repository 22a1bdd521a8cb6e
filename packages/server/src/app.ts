import type { Logger } from 'pino';
import type { ActionPipeline } from './actions/action-pipeline.js';
import type { OpenDatabase } from './db/database.js';
import { healthRoutes } from './health/health-routes.js';
import { ApiError } from './http/api-error.js';
import { onError } from './http/error-handler.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import { limitBody, requestContext } from './http/middleware.js';
import { createRouter } from './http/openapi.js';
import { journalRoutes } from './journal/journal-routes.js';
import { budgetsRoutes } from './budgets/budgets-routes.js';
import { createBudgets, type Budgets } from './budgets/budgets-service.js';
import { ledgerRoutes } from './ledger/ledger-routes.js';
import { createSandboxRail } from './payments/payment-rail.js';
import { paymentsRoutes } from './payments/payments-routes.js';
import { createPayments, type Payments } from './payments/payments-service.js';
import { createLedger, type Ledger } from './ledger/ledger-service.js';
import type { Journal } from './journal/journal-service.js';
import type { Tenancy } from './tenancy/tenancy-service.js';
import type { Traces } from './traces/traces-service.js';
import { traceQueryRoutes } from './traces/trace-query-routes.js';
import { createTraceQuery, type TraceQueryService } from './traces/trace-query-service.js';
import { createBlobStore } from './blobs/blob-store.js';
import { tenancyRoutes } from './tenancy/tenancy-routes.js';
import { createWebhooks } from './webhooks/webhook-service.js';
import { webRoutes } from './web/web-routes.js';

export interface AppDeps {
  database: OpenDatabase;
  tenancy: Tenancy;
  journal: Journal;
  traces: Traces;
  /** The ledger; one over `database` by default. */
  ledger?: Ledger;
  /** Budgets over the ledger; made from `ledger` by default. */
  budgets?: Budgets;
  /** Payments; on the sandbox rail by default. */
  payments?: Payments;
  /** The one path of every agent action (model calls, tools, payments…). */
  actions: ActionPipeline;
  /** Trace search and aggregates; built from `database` when not given. */
  traceQuery?: TraceQueryService;
  logger: Logger;
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

  app.use('/v1/*', limitBody(deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES));
  app.use('/v1/*', async (c, next) => {
    const bearer = c.req.header('authorization')?.match(/^Bearer\s+(.+)$/i)?.[1];
    c.set('auth', await deps.tenancy.authenticate(bearer ?? c.req.header('x-hangar-key')));
    await next();
  });
  app.route('/', tenancyRoutes(deps.tenancy));
  app.route('/', journalRoutes(deps.journal));
  const { db, functions, blobDir } = deps.database;
  app.route('/', traceQueryRoutes(deps.traceQuery ?? createTraceQuery({ db, functions, blobs: createBlobStore({ dir: blobDir }) })));
  const ledger = deps.ledger ?? createLedger({ db: deps.database.db });
  const budgets =
    deps.budgets ??
    createBudgets({ db: deps.database.db, ledger, webhooks: createWebhooks({ db: deps.database.db, logger: deps.logger }), logger: deps.logger });
  app.route('/', ledgerRoutes(ledger));
  app.route('/', budgetsRoutes(budgets));
  app.route('/', paymentsRoutes(deps.payments ?? createPayments({ db: deps.database.db, ledger, rail: createSandboxRail({ db: deps.database.db }) })));
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
    description: 'An API key (hk_…)',
  });

  app.route('/', webRoutes(deps.webDir ?? null));
  app.notFound((c) => onError(new ApiError('not_found', `No route ${c.req.method} ${c.req.path}.`), c));
  return app;
}

export type App = ReturnType<typeof createApp>;
