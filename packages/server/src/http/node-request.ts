import type { IncomingMessage } from 'node:http';
import type { HeaderReader } from './auth.js';
import { bodyTooLarge } from './middleware.js';

// Reading a request straight from node:http, for the paths served without Hono (gateway-wire.ts), the
// way @hono/node-server presents it to Hono: the same header values, the same host check, the same
// bounded drain of a body left unread.

/** Headers node:http keeps one of when they are repeated; a WHATWG Headers (what Hono reads) joins them all. */
const NOT_JOINED_BY_NODE: ReadonlySet<string> = new Set(['authorization', 'content-type', 'content-length']);

/** Reads a request's headers as Hono's `c.req.header(name)` does; `name` is lower case. */
export function headerReader(req: IncomingMessage): HeaderReader {
  const { headers } = req;
  return (name) => {
    const value = headers[name];
    if (value === undefined || !NOT_JOINED_BY_NODE.has(name)) return value as string | undefined;
    // "Authorization: a" twice reads "a, a" through Hono (and is refused); node kept only the first
    const raw = req.rawHeaders;
    let joined: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const rawName = raw[i]!;
      if (rawName.length === name.length && rawName.toLowerCase() === name) {
        joined = joined === undefined ? raw[i + 1]! : `${joined}, ${raw[i + 1]!}`;
      }
    }
    return joined;
  };
}

const SIMPLE_HOST = /^[a-z0-9._-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/;

/**
 * Whether @hono/node-server would build a URL of this Host header (it answers 400 otherwise): the same
 * quick pattern, then the same parse. A request it would refuse is left to it.
 */
export function hostIsValid(host: string | undefined): boolean {
  if (!host) return false;
  if (SIMPLE_HOST.test(host)) return true;
  try {
    const { hostname } = new URL(`http://${host}/`);
    return hostname.length === host.length || hostname === (host.includes(':') ? host.replace(/:\d+$/, '') : host).toLowerCase();
  } catch {
    return false;
  }
}

/**
 * The whole body. With `maxBytes`, refused with payload_too_large once past it (the rest is not read):
 * for a body sent without content-length, which the limit can only count as it arrives. A body that
 * breaks off (the client went away) rejects with the stream's error.
 */
export function readBody(req: IncomingMessage, maxBytes: number | null = null): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err: Error | null) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', done);
      req.off('close', onClose);
      if (err) reject(err);
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (maxBytes !== null && size > maxBytes) {
        req.pause(); // what is left is drained once the 413 is sent (drainRest)
        return done(bodyTooLarge(maxBytes));
      }
      chunks.push(chunk);
    };
    const onEnd = () => done(null);
    const onClose = () => done(new Error('The request body broke off.'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', done);
    req.on('close', onClose);
  });
}

const DRAIN_TIMEOUT_MS = 500;
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

/**
 * Reads and drops what is left of a body once its request is answered, so that the connection can
 * take the next request; past 64 MiB or half a second the connection is closed instead (what
 * @hono/node-server does after a response that did not read the whole body).
 */
export function drainRest(req: IncomingMessage): void {
  if (req.readableEnded || req.destroyed) return;
  let bytes = 0;
  const cleanup = () => {
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', cleanup);
    req.off('error', cleanup);
  };
  const close = () => {
    cleanup();
    req.socket.destroySoon();
  };
  const timer = setTimeout(close, DRAIN_TIMEOUT_MS);
  timer.unref();
  const onData = (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > MAX_DRAIN_BYTES) close();
  };
  req.on('data', onData);
  req.on('end', cleanup);
  req.on('error', cleanup);
  req.resume();
}
