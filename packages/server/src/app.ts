import type { Logger } from 'pino';
import { agentActionsRoutes } from './actions/agent-actions-routes.js';
import { approvalsRoutes } from './approvals/approvals-routes.js';
import { healthRoutes } from './health/health-routes.js';
import { identityRoutes, jwksRoutes } from './identity/identity-routes.js';
import { policyRoutes } from './policy/policy-routes.js';
import { ApiError } from './http/api-error.js';
import { createAuthenticator } from './http/auth.js';
import { onError } from './http/error-handler.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import { limitBody, requestContext } from './http/middleware.js';
import { createRouter } from './http/openapi.js';
import { datasetsRoutes } from './evals/datasets-routes.js';
import { experimentsRoutes } from './evals/experiments-routes.js';
import { onlineEvalsRoutes } from './evals/online-evals-routes.js';
import { gatewayRoutes } from './gateway/gateway-routes.js';
import { createGatewayWire } from './gateway/gateway-wire.js';
import { journalRoutes } from './journal/journal-routes.js';
import { budgetsRoutes } from './budgets/budgets-routes.js';
import { ledgerRoutes } from './ledger/ledger-routes.js';
import { paymentsRoutes } from './payments/payments-routes.js';
import { traceQueryRoutes } from './traces/trace-query-routes.js';
import { reconciliationRoutes } from './reconciliation/reconciliation-routes.js';
import { spendRoutes } from './spend/spend-routes.js';
import { tenancyRoutes } from './tenancy/tenancy-routes.js';
import { otlpRoutes } from './traces/otlp-routes.js';
import { pricingRoutes } from './pricing/pricing-routes.js';
import type { Services } from './services.js';
import { webRoutes } from './web/web-routes.js';

export interface AppDeps extends Services {
  logger: Logger;
  metrics?: Metrics;
  /** Largest accepted request body; 1 MiB by default. */
  maxBodyBytes?: number;
  /** Largest accepted OTLP body on POST /v1/traces (also after gunzip); 16 MiB by default. */
  maxTraceBodyBytes?: number;
  /** The built web UI (packages/web/dist); null serves a page that says how to build it. */
  webDir?: string | null;
  /** Readiness turns 503 while this is true. */
  isShuttingDown?: () => boolean;
  version?: string;
}

/** Requests that do not wait for pending gateway records: the calls themselves and span ingest. */
const MODEL_CALL_PATHS: ReadonlySet<string> = new Set(['/v1/chat/completions', '/v1/messages', '/v1/embeddings', '/v1/traces']);

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MAX_TRACE_BODY_BYTES = 16 * 1024 * 1024;

/**
 * Builds the Hono app, and the lean path of its model calls (`wire`). Never listens: `startServer`, with
 * `createRequestListener(app)`, does; a test calls `app.request()` or listens the same way.
 */
export function createApp(deps: AppDeps) {
  const metrics = deps.metrics ?? createMetrics();
  const app = createRouter();
  app.onError(onError);
  app.use('*', requestContext(deps.logger));
  app.use('*', metrics.middleware);

  app.route('/', healthRoutes({ database: deps.database, metrics, isShuttingDown: deps.isShuttingDown ?? (() => false) }));

  app.route('/', jwksRoutes(deps.identity));

  const authenticate = createAuthenticator(deps);
  const maxBodyBytes = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const bodyLimit = limitBody(maxBodyBytes);
  // OTLP batches are larger than API calls: /v1/traces applies its own limit
  app.use('/v1/*', (c, next) => (c.req.path === '/v1/traces' ? next() : bodyLimit(c, next)));
  app.use('/v1/*', async (c, next) => {
    c.set('auth', await authenticate((name) => c.req.header(name)));
    // Model calls are recorded just after they are answered: anything else a client asks next (its
    // traces, the journal, a budget's spend) waits for the records this process still has pending.
    if (!MODEL_CALL_PATHS.has(c.req.path)) await deps.gateway.recorded();
    await next();
  });
  app.route('/', tenancyRoutes(deps.tenancy));
  app.route('/', journalRoutes(deps.journal));
  app.route('/', traceQueryRoutes(deps.traceQuery));
  app.route('/', spendRoutes(deps.spend));
  app.route('/', ledgerRoutes(deps.ledger));
  app.route('/', budgetsRoutes(deps.budgets));
  app.route('/', paymentsRoutes(deps.payments));
  app.route('/', agentActionsRoutes(deps.agentActions));
  app.route('/', reconciliationRoutes(deps.reconciliation));
  app.route('/', otlpRoutes(deps.traces, { maxBodyBytes: deps.maxTraceBodyBytes ?? DEFAULT_MAX_TRACE_BODY_BYTES }));
  app.route('/', pricingRoutes(deps.pricing));
  app.route('/', gatewayRoutes(deps.gateway));
  app.route('/', identityRoutes(deps.identity));
  app.route('/', policyRoutes(deps.policies));
  app.route('/', approvalsRoutes(deps.approvals));
  app.route('/', datasetsRoutes(deps.datasets));
  app.route('/', experimentsRoutes(deps.experiments));
  app.route('/', onlineEvalsRoutes(deps.onlineEvals));
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
  // The model calls again, on node:http without Hono: the listener (http/node-listener.ts) sends them there.
  const wire = createGatewayWire({ gateway: deps.gateway, authenticate, metrics, logger: deps.logger, maxBodyBytes });
  return Object.assign(app, {
    /** Serves a request on node:http when it is a model call (gateway-wire.ts); false for any other. */
    wire,
  });
}

export type App = ReturnType<typeof createApp>;
