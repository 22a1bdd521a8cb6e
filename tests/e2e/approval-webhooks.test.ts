import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { verifySignature } from '../../packages/server/src/webhooks/webhook-service.js';
import { startServer, type TestServer } from './harness.js';

/** Webhooks live in the store's outbox: one the first server could not deliver, the next one delivers. */
describe('approval webhooks across a restart', () => {
  const servers: TestServer[] = [];
  let up = false;
  const received: Array<{ headers: IncomingHttpHeaders; body: string; answered: number }> = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      res.statusCode = up ? 204 : 503;
      received.push({ headers: req.headers, body, answered: res.statusCode });
      res.end();
    });
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
    await new Promise((r) => receiver.close(r));
  });

  it('a delivery pending when the server is killed is delivered, signed, by the next server process', async () => {
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    // the first server never sweeps on its own: only the attempt made right after the event
    const first = await startServer({ env: { HANGAR_HOLD_SWEEP_INTERVAL_MS: '3600000' } });
    const call = (server: TestServer, method: string, path: string, body: unknown) =>
      fetch(server.url + path, {
        method,
        headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    const hook = (await (await call(first, 'PUT', '/v1/approvals/webhook', { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` })).json()) as { secret: string };
    expect((await call(first, 'POST', '/v1/policies', { name: 'ask', text: '@effect("require_approval")\npermit(principal, action == Action::"model.call", resource);' })).status).toBe(201);
    const asked = await call(first, 'POST', '/v1/chat/completions', { model: 'hangar/echo', messages: [{ role: 'user', content: 'may I?' }] });
    const error = ((await asked.json()) as { error: { code: string; details: { approvalId: string } } }).error;
    expect([asked.status, error.code]).toEqual([403, 'approval_required']);

    await vi.waitFor(() => expect(received).toHaveLength(1), { timeout: 10_000 });
    expect(received[0]!.answered).toBe(503);
    // once the failed attempt is on record (else the delivery stays leased to the dead process for a minute)
    const file = new SQLite(path.join(first.dataDir, 'hangar.db'), { readonly: true });
    const outbox = () => file.prepare('select event_type, attempts, delivered_at, last_error from webhook_deliveries').all();
    await vi.waitFor(() => expect(outbox()).toEqual([{ event_type: 'approval.requested', attempts: 1, delivered_at: null, last_error: 'HTTP 503' }]), { timeout: 10_000 });
    await first.kill('SIGKILL');

    up = true;
    const second = await startServer({ dataDir: first.dataDir, env: { HANGAR_HOLD_SWEEP_INTERVAL_MS: '200' } });
    servers.push(second);
    await vi.waitFor(() => expect(received).toHaveLength(2), { timeout: 15_000, interval: 100 });
    const [failed, delivered] = received;
    expect(delivered!.answered).toBe(204);
    expect(delivered!.headers['hangar-delivery']).toBe(failed!.headers['hangar-delivery']);
    expect(delivered!.headers['hangar-event']).toBe('approval.requested');
    expect(verifySignature(hook.secret, delivered!.body, String(delivered!.headers['hangar-signature']))).toBe(true);
    expect(JSON.parse(delivered!.body)).toMatchObject({ type: 'approval.requested', data: { id: error.details.approvalId, kind: 'model.call', resource: 'hangar/echo', status: 'pending' } });

    // delivered once: later sweeps leave it alone
    await new Promise((r) => setTimeout(r, 600));
    expect(received).toHaveLength(2);
    expect(outbox()).toEqual([{ event_type: 'approval.requested', attempts: 2, delivered_at: expect.any(String), last_error: null }]);
    file.close();
  }, 60_000);
});
