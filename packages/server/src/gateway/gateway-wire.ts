import type { IncomingMessage, ServerResponse } from 'node:http';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from 'pino';
import type { Authenticate } from '../http/auth.js';
import { errorEnvelope } from '../http/error-handler.js';
import type { Metrics } from '../http/metrics.js';
import { bodyTooLarge, logRequest, requestIdOf } from '../http/middleware.js';
import { drainRest, headerReader, hostIsValid, readBody } from '../http/node-request.js';
import { validationFailed } from '../http/openapi.js';
import { assertPermitted } from '../http/permissions.js';
import { extend } from '../util/objects.js';
import { retryAfterOf, WIRE_REQUESTS } from './gateway-routes.js';
import { CLIENT_CLOSED_STATUS, endpointPath, isClientClosed, type CallResult, type Gateway } from './gateway-service.js';
import { CallAbort, type Endpoint } from './gateway-types.js';

export interface GatewayWireOptions {
  gateway: Pick<Gateway, 'call'>;
  authenticate: Authenticate;
  metrics: Pick<Metrics, 'observe'>;
  logger: Logger;
  maxBodyBytes: number;
}

/** Serves a request when it is a model call and says so; false for any other request. */
export type WireHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

const ENDPOINTS: ReadonlyMap<string, Endpoint> = new Map(
  (['chat', 'messages', 'embeddings'] as const).map((endpoint) => [endpointPath(endpoint), endpoint]),
);

/** The route label Hono's metrics give an answer from the /v1 middleware (body limit, key), before the route. */
const V1_MIDDLEWARE = '/v1/*';

/** @hono/zod-openapi's media-type gate of a JSON body: a request with another content-type is refused (415). */
const JSON_REQUEST = /^application\/([a-z-.]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/i;

/**
 * The model-call endpoints — POST /v1/chat/completions, /v1/messages and /v1/embeddings — served on
 * node:http itself: no WHATWG Request or Response is built and no router or middleware chain runs, the
 * largest part of what a small call cost the server on top of the gateway. What a client sees, and
 * what is logged and counted, is what the Hono routes (gateway-routes.ts, which stay for `app.request()`
 * and /openapi.json) and the /v1 middleware give, in the same order, through the same pieces: the
 * request id and log line, the metrics, the body limit (by content-length, or counted as it arrives),
 * `authenticate`, `requires('ingest')`, the media-type gate and the JSON and schema checks, the error
 * envelope. A client that goes away aborts the call's signal (the call is recorded as disconnected and
 * the provider request aborted) and cancels a stream being sent.
 * @example const wire = createGatewayWire({ gateway, authenticate, metrics, logger, maxBodyBytes });
 * http.createServer((req, res) => wire(req, res) || hono(req, res));
 */
export function createGatewayWire({ gateway, authenticate, metrics, logger, maxBodyBytes }: GatewayWireOptions): WireHandler {
  async function serve(req: IncomingMessage, res: ServerResponse, path: string, endpoint: Endpoint): Promise<void> {
    const started = performance.now();
    const header = headerReader(req);
    const requestId = requestIdOf(header('x-request-id'));
    let log: Logger | undefined;
    const requestLog = () => (log ??= logger.child({ requestId }));
    const clientGone = new CallAbort();
    let cancelStream: (() => void) | undefined;
    res.once('close', () => {
      if (res.writableFinished) return;
      clientGone.abort(new Error('The client closed the connection.'));
      cancelStream?.();
    });

    let route = V1_MIDDLEWARE;
    let status: number;
    try {
      // The body limit: by content-length when there is one, otherwise counted as the body arrives
      // and refused before anything else, as Hono's bodyLimit does. Either way the body is read from
      // now on (one sent with the headers is in by the time the key is checked), but a body with a
      // content-length is only waited for once the key and its permission are, as Hono's validator does.
      const declared = header('content-length');
      const counted = declared === undefined || header('transfer-encoding') !== undefined;
      if (!counted && Number(declared) > maxBodyBytes) throw bodyTooLarge(maxBodyBytes);
      const reading = readBody(req, counted ? maxBodyBytes : null);
      reading.catch(() => {}); // awaited below, unless the request is refused first
      if (counted) await reading;
      const auth = await authenticate(header);
      route = path;
      assertPermitted(auth, 'ingest');
      const body = await reading.catch(() => {
        throw new HTTPException(400, { message: 'Malformed JSON in request body' });
      });
      const request = parseRequest(endpoint, header('content-type'), body);
      const result = await gateway.call({ auth, endpoint, body: request, headers: header, signal: clientGone });
      status = 200;
      cancelStream = answer(res, result, requestId);
    } catch (err) {
      if (isClientClosed(err)) {
        status = CLIENT_CLOSED_STATUS; // nobody to answer
      } else {
        const envelope = errorEnvelope(err, requestId, requestLog);
        status = envelope.status;
        const text = JSON.stringify(envelope.body);
        const headers: Record<string, string | number> = {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
          'x-request-id': requestId,
        };
        const retryAfter = retryAfterOf(err);
        if (retryAfter !== undefined) headers['retry-after'] = retryAfter;
        if (!res.headersSent && !res.destroyed) res.writeHead(status, headers).end(text);
        // a body refused unread (too large) is drained once the answer is out, within bounds
        if (!req.readableEnded && req.listenerCount('data') === 0) res.once('finish', () => drainRest(req));
      }
    }
    metrics.observe('POST', route, status, started);
    if (logger.isLevelEnabled('info')) logRequest(requestLog(), { method: 'POST', path, status, started });
  }

  return (req, res) => {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    const endpoint = ENDPOINTS.get(path);
    // a Host header @hono/node-server would refuse: left to it, to be refused the same way
    if (!endpoint || !hostIsValid(req.headers.host)) return false;
    serve(req, res, path, endpoint).catch((err: unknown) => {
      // not an answer gone wrong (those are answered above) but the wire path itself
      logger.error({ err }, 'the model-call wire path failed');
      res.destroy();
    });
    return true;
  };
}

/** The request body as the route's validators take it: media type, then JSON, then the endpoint's schema. */
function parseRequest(endpoint: Endpoint, contentType: string | undefined, body: Buffer): Record<string, unknown> {
  let value: unknown = {};
  if (contentType) {
    if (!JSON_REQUEST.test(contentType)) throw new HTTPException(415, { message: 'Unsupported Media Type' });
    let text = body.toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // as Request.text() decodes it
    try {
      value = JSON.parse(text);
    } catch {
      throw new HTTPException(400, { message: 'Malformed JSON in request body' });
    }
  } else if (body.length > 0) {
    throw new HTTPException(415, { message: 'Unsupported Media Type' });
  }
  const parsed = WIRE_REQUESTS[endpoint].safeParse(value);
  if (!parsed.success) throw validationFailed('json', parsed.error.issues);
  return parsed.data;
}

/** Writes the answer; for a stream, returns what cancels it should the client go away. */
function answer(res: ServerResponse, result: CallResult, requestId: string): (() => void) | undefined {
  if (result.kind === 'json') {
    const text = result.text ?? JSON.stringify(result.body);
    res
      .writeHead(
        200,
        extend(result.headers, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
          'x-request-id': requestId,
        }),
      )
      .end(text);
    return undefined;
  }
  const reader = result.stream.getReader();
  const cancel = () => void reader.cancel().catch(() => {});
  if (res.destroyed) {
    cancel(); // the client left while the call was being made: the stream records it and aborts upstream
    return undefined;
  }
  res.writeHead(200, extend(result.headers, { 'x-request-id': requestId }));
  res.flushHeaders();
  const next = (): void => {
    reader.read().then(({ done, value }) => {
      if (res.destroyed) return;
      if (done) res.end();
      else if (res.write(value)) next();
      else res.once('drain', next);
    }, (err: unknown) => res.destroy(err as Error));
  };
  next();
  return cancel;
}
