import type { RequestListener } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { App } from '../app.js';

/**
 * The node:http listener of an app, what the server and the tests that listen on a socket both use:
 * model calls go the lean path (`app.wire`, gateway-wire.ts), every other request to Hono through
 * @hono/node-server. `hostname` stands in for a missing Host header (an HTTP/1.0 request), as in
 * @hono/node-server's `serve`.
 * @example http.createServer(createRequestListener(createApp(deps))).listen(8787);
 */
export function createRequestListener(app: App, options: { hostname?: string } = {}): RequestListener {
  const hono = getRequestListener(app.fetch, { hostname: options.hostname });
  return (req, res) => {
    if (!app.wire(req, res)) void hono(req, res);
  };
}
