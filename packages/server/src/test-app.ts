import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { createApp } from './app.js';
import { createRequestListener } from './http/node-listener.js';
import type { GatewayHooks } from './gateway/gateway-service.js';
import { createServices, type ServicesOptions } from './services.js';
import { openTestDatabase, type TestDialect } from './db/test-databases.js';

export const ADMIN_KEY = 'hk_' + 'A'.repeat(32);

/** A full app on a fresh test database, bootstrapped with ADMIN_KEY; `request` adds the key. */
export async function createTestApp(
  dialect: TestDialect = 'sqlite',
  options: { maxBodyBytes?: number; maxTraceBodyBytes?: number; secret?: string; gatewayHooks?: GatewayHooks; onlineEvals?: ServicesOptions['onlineEvals']; providerNetwork?: ServicesOptions['providerNetwork']; logger?: Logger } = {},
) {
  const database = await openTestDatabase(dialect);
  const logger = options.logger ?? pino({ level: process.env.HANGAR_TEST_LOG ?? 'silent' });
  const services = createServices({
    database,
    logger,
    secret: options.secret,
    gatewayHooks: options.gatewayHooks,
    providerNetwork: options.providerNetwork,
    onlineEvals: options.onlineEvals,
    webhookBackoffBaseMs: 50,
  });
  await services.signingKeys.prepare();
  await services.tenancy.bootstrap({ adminKey: ADMIN_KEY });
  const app = createApp({
    ...services,
    logger,
    webDir: null,
    maxBodyBytes: options.maxBodyBytes,
    maxTraceBodyBytes: options.maxTraceBodyBytes,
  });

  async function request(
    method: string,
    path: string,
    options: { key?: string | null; body?: unknown; headers?: Record<string, string> } = {},
  ) {
    const headers: Record<string, string> = { ...options.headers };
    const key = options.key === undefined ? ADMIN_KEY : options.key;
    if (key) headers.authorization = `Bearer ${key}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await app.request(path, { method, headers, body });
    const text = await res.text();
    let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  }

  /**
   * Serves the app on a free port of 127.0.0.1 with the server's own listener (model calls on the wire
   * path, the rest through Hono), for real clients; `close` ends open connections too.
   */
  async function listen(): Promise<{ server: Server; url: string; close(): Promise<void> }> {
    const server = createServer(createRequestListener(app));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      server,
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      async close() {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  }

  async function close() {
    await services.gateway.close();
    await services.webhooks.idle();
    await database.close();
  }

  return { ...services, app, database, request, listen, close };
}

export type TestApp = Awaited<ReturnType<typeof createTestApp>>;
