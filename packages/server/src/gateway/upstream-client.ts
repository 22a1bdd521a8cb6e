import http, { type IncomingMessage, type RequestOptions } from 'node:http';
import https from 'node:https';
import { urlToHttpOptions } from 'node:url';
import { extend } from '../util/objects.js';
import { UpstreamError, retryAfterMs, type AbortSignalLike } from './gateway-types.js';
import { BLOCKED_CODE, type ProviderNetwork } from './provider-network.js';

// Keep-alive pools: a gateway makes many calls to few hosts, and a new TCP (and TLS) handshake per call
// would be most of its added latency.
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 }),
};

const MAX_ERROR_BODY = 64 * 1024;

export interface UpstreamResponse {
  status: number;
  headers: IncomingMessage['headers'];
  /** The body, decoded as UTF-8 text as it arrives. */
  text(): AsyncIterable<string>;
  /** The whole body: its text, and that text parsed. */
  json(): Promise<{ json: Record<string, unknown>; text: string }>;
}

/** A provider's URL as http.request options, worked out once per URL (providers keep theirs). */
const targets = new WeakMap<URL, RequestOptions>();
function targetOf(url: URL): RequestOptions {
  let target = targets.get(url);
  if (!target) targets.set(url, (target = urlToHttpOptions(url)));
  return target;
}

/**
 * POSTs JSON to a provider over a pooled connection. Resolves once the status is 2xx and headers are
 * in; a non-2xx status rejects with an UpstreamError carrying the status, Retry-After and the error
 * body. Aborting `signal` destroys the request (and so stops the provider's work). `network` checks
 * the address of every new connection (a pooled one was checked when it was made); a refused one
 * rejects with an UpstreamError of kind `blocked`.
 */
export function postJson(
  url: URL,
  headers: Record<string, string>,
  body: unknown,
  signal: AbortSignalLike,
  network: ProviderNetwork,
): Promise<UpstreamResponse> {
  const payload = Buffer.from(JSON.stringify(body));
  const client = url.protocol === 'https:' ? https : http;
  const agent = agents[url.protocol as keyof typeof agents];
  if (!agent) return Promise.reject(new UpstreamError('blocked', `Providers are called over http or https, not ${url.protocol}`));
  const literal = network.refuseLiteral(url);
  if (literal) return Promise.reject(new UpstreamError('blocked', `The server may not call ${url.origin}: ${literal}.`));
  return new Promise((resolve, reject) => {
    const req = client.request(
      {
        ...targetOf(url),
        method: 'POST',
        agent,
        lookup: network.lookup,
        headers: extend(headers, {
          'content-type': 'application/json',
          'content-length': String(payload.length),
          accept: 'application/json, text/event-stream',
        }),
      },
      (res) => {
        res.setEncoding('utf8');
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          resolve({
            status,
            headers: res.headers,
            text: () => res,
            json: () =>
              new Promise((resolveBody, rejectBody) => {
                let text = '';
                res.on('data', (chunk: string) => (text += chunk));
                res.on('error', rejectBody);
                res.on('close', () => {
                  if (!res.complete) rejectBody(new Error('The answer broke off.'));
                });
                res.on('end', () => {
                  try {
                    resolveBody({ json: JSON.parse(text) as Record<string, unknown>, text });
                  } catch (cause) {
                    rejectBody(
                      new UpstreamError('status', `The provider answered ${status} with a body that is not JSON.`, {
                        status: 502,
                        cause,
                      }),
                    );
                  }
                });
              }),
          });
          return;
        }
        let text = '';
        res.on('data', (chunk: string) => {
          if (text.length < MAX_ERROR_BODY) text += chunk;
        });
        res.on('error', () => {});
        res.on('end', () => {
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          const get = (name: string) => {
            const v = res.headers[name];
            return Array.isArray(v) ? v[0] : v;
          };
          reject(
            new UpstreamError('status', `The provider answered ${status}.`, {
              status,
              retryAfterMs: retryAfterMs({ get }),
              body: parsed,
            }),
          );
        });
      },
    );
    // aborting destroys the request (and so the provider's work), as http.request's own `signal` option
    // would, without the stream plumbing that option sets up on every request
    const abort = () => req.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) abort();
    else {
      signal.addEventListener('abort', abort, { once: true });
      req.once('close', () => signal.removeEventListener('abort', abort));
    }
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === BLOCKED_CODE)
        reject(new UpstreamError('blocked', `The server may not call ${url.origin}: ${err.message}.`, { cause: err }));
      else if (signal.aborted)
        reject(
          signal.reason instanceof Error
            ? signal.reason
            : new UpstreamError('timeout', 'The attempt was aborted.'),
        );
      else
        reject(
          new UpstreamError('connection', `Could not reach the provider: ${err.code ?? err.message}.`, {
            cause: err,
          }),
        );
    });
    req.end(payload);
  });
}
