import type { AddressInfo } from 'node:net';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pino, type Logger } from 'pino';
import { createApp } from './app.js';
import { createRequestListener } from './http/node-listener.js';
import { createServices } from './services.js';
import type { ServerConfig } from './config.js';
import { openDatabase } from './db/database.js';
import { createTenancyStore } from './tenancy/tenancy-store.js';

export interface RunningServer {
  url: string;
  /** The admin key made on first start (print it once); null when one existed or was given. */
  createdAdminKey: string | null;
  /** Where data lives, for the start-up banner. */
  database: string;
  /** Stops accepting, lets in-flight requests finish (up to the timeout), closes the store. */
  close(): Promise<void>;
}

/** Opens the store, applies migrations, bootstraps, and listens. */
export async function startServer(
  config: ServerConfig,
  options: { logger?: Logger } = {},
): Promise<RunningServer> {
  const logger = options.logger ?? pino({ level: config.logLevel, base: { service: 'hangar' } });
  // a long-running server checkpoints SQLite's WAL on another thread, off the requests' one
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, checkpointEveryMs: 100 });
  let services;
  try {
    services = createServices({
      database,
      logger,
      secret: config.secret,
      // and writes gateway call records on another thread too (where the database has one to offer)
      recordThread: true,
      providerNetwork: { allowedHosts: config.providerAllowedHosts, denyPrivate: config.providerDenyPrivate },
      sandboxRail: config.sandboxRail,
    });
  } catch (err) {
    await database.close();
    throw err;
  }
  const { tenancy, journal, ledger, webhooks, payments, agentActions, onlineEvals, signingKeys } = services;
  let bootstrap: { createdKey: string | null };
  try {
    // refuses to start when the signing keys are sealed and HANGAR_SECRET is missing or another one
    const keys = await signingKeys.prepare();
    if (keys.sealed) logger.info({ sealed: keys.sealed }, 'signing keys encrypted with HANGAR_SECRET');
    if (!config.secret) {
      logger.warn(
        'HANGAR_SECRET is not set (dev mode): the gateway refuses to store provider API keys, and signing keys are stored unencrypted',
      );
    }
    bootstrap = await tenancy.bootstrap({ adminKey: config.adminKey });
  } catch (err) {
    await database.close();
    throw err;
  }

  let shuttingDown = false;
  let inFlight = 0;
  let idle: (() => void) | null = null;
  const app = createApp({
    ...services,
    logger,
    maxBodyBytes: config.maxBodyBytes,
    maxTraceBodyBytes: config.maxTraceBodyBytes,
    webDir: config.webDir,
    isShuttingDown: () => shuttingDown,
  });

  const server = await new Promise<Server>((resolve, reject) => {
    const s = createServer(createRequestListener(app, { hostname: config.host }));
    s.listen(config.port, config.host);
    // In flight until the response is written out, not just until the handler returns it.
    s.on('request', (_req: IncomingMessage, res: ServerResponse) => {
      inFlight++;
      res.once('close', () => {
        if (--inFlight === 0) idle?.();
      });
    });
    s.once('listening', () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(
              `Port ${config.port} on ${config.host} is in use: pass --port (or set HANGAR_PORT), or stop what runs there.`,
            )
          : err,
      );
    });
  }).catch(async (err: unknown) => {
    await database.close();
    throw err;
  });

  const retention = setInterval(() => {
    void sweepRetention().catch((err: unknown) => logger.error({ err }, 'retention sweep failed'));
  }, config.retentionIntervalMs);
  retention.unref();

  // Payments a killed process left between the rail and the ledger: finished on start-up (before the
  // hold sweeper could expire their holds) and on every sweep after.
  const recoverPayments = () =>
    payments
      .recover(config.paymentRecoveryGraceMs)
      .then((recovered) => recovered && logger.warn({ recovered }, 'payments recovered'))
      .catch((err: unknown) => logger.error({ err }, 'payment recovery failed'));
  await recoverPayments();

  // Expired holds are voided, actions whose agent never reported abandoned (their holds released) and
  // due webhooks sent by every process; each hold, action and delivery is taken by one.
  const sweeper = setInterval(() => {
    void recoverPayments();
    void agentActions
      .sweepExpired()
      .then((abandoned) => abandoned && logger.info({ abandoned }, 'expired actions ended'))
      .catch((err: unknown) => logger.error({ err }, 'action sweep failed'));
    void ledger
      .sweepExpired()
      .then((expired) => expired && logger.info({ expired }, 'expired holds voided'))
      .catch((err: unknown) => logger.error({ err }, 'hold sweep failed'));
    void webhooks.deliverDue().catch((err: unknown) => logger.error({ err }, 'webhook delivery failed'));
  }, config.holdSweepIntervalMs);
  sweeper.unref();

  // Online evals score new spans and check drift in the background, never on the ingest path; rules are
  // leased, so several processes share them.
  const stopOnlineEvals = onlineEvals.start(config.onlineEvalIntervalMs);

  async function sweepRetention() {
    for (const project of await createTenancyStore(database.db).listProjectsWithRetention()) {
      const report = await journal.applyRetention(project.id, project.retentionDays!);
      if (report.eventsRemoved || report.blobsRemoved)
        logger.info({ projectId: project.id, ...report }, 'retention applied');
    }
  }

  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
  logger.info({ url, database: database.describe }, 'hangar listening');

  let closing: Promise<void> | null = null;
  return {
    url,
    createdAdminKey: bootstrap.createdKey,
    database: database.describe,
    close() {
      closing ??= (async () => {
        shuttingDown = true;
        logger.info({ inFlight }, 'shutting down');
        clearInterval(retention);
        clearInterval(sweeper);
        await stopOnlineEvals();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const drained = inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (idle = resolve));
        const timedOut = new Promise<'timeout'>((resolve) =>
          setTimeout(resolve, config.shutdownTimeoutMs, 'timeout').unref(),
        );
        if ((await Promise.race([drained, timedOut])) === 'timeout') {
          logger.warn({ inFlight }, 'shutdown timeout: closing remaining connections');
        }
        server.closeAllConnections();
        await stopped;
        await services.gateway.close(); // calls already answered are recorded before the store closes
        await webhooks.idle(); // a delivery under way records its outcome before the store closes
        await database.close();
        logger.info('hangar stopped');
      })();
      return closing;
    },
  };
}
