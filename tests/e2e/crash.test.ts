import http from 'node:http';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createClient } from '@hangar/sdk';
import { startServer, type TestServer } from './harness.js';

const PG_URL = process.env.HANGAR_TEST_PG_URL;

interface Target {
  name: string;
  env: () => Promise<Record<string, string>>;
}

const schemas: string[] = [];
const targets: Target[] = [{ name: 'sqlite', env: async () => ({}) }];
if (PG_URL) {
  targets.push({
    name: 'postgres',
    env: async () => {
      const schema = `crash_${process.pid}_${Date.now()}`;
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`create schema ${schema}`);
      await c.end();
      schemas.push(schema);
      const url = new URL(PG_URL);
      url.searchParams.set('options', `-c search_path=${schema}`);
      return { HANGAR_DATABASE_URL: url.toString() };
    },
  });
}

afterAll(async () => {
  if (!PG_URL || schemas.length === 0) return;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  for (const s of schemas) await c.query(`drop schema if exists ${s} cascade`);
  await c.end();
});

/** Appends as fast as 8 writers can until stopped; returns what the server acknowledged. */
function burst(server: TestServer) {
  const hangar = createClient({ baseUrl: server.url, apiKey: server.adminKey });
  const acked: Array<{ stream: string; seq: number; hash: string }> = [];
  let running = true;
  const writers = Array.from({ length: 8 }, async (_, w) => {
    for (let i = 0; running; i++) {
      const big = i % 5 === 0; // every fifth payload goes to the blob store
      try {
        const res = await hangar.journal.append(`run:${w % 4}`, {
          events: [
            { type: 'step', payload: { w, i, text: big ? 'x'.repeat(6000) + i : 'small' } },
            { type: 'step.done', payload: { w, i } },
          ],
        });
        for (const e of res.events) acked.push({ stream: e.stream, seq: e.seq, hash: e.hash });
      } catch {
        return; // the server is gone
      }
    }
  });
  return {
    acked,
    stop: async () => {
      running = false;
      await Promise.all(writers);
    },
  };
}

for (const target of targets) {
  describe(`crash safety on ${target.name}`, () => {
    it('SIGKILL during a burst of appends: after restart the chains verify and every acknowledged event is there', async () => {
      const env = await target.env();
      const first = await startServer({ env });
      const load = burst(first);
      await new Promise((r) => setTimeout(r, 1500));
      await first.kill('SIGKILL');
      await load.stop();
      expect(load.acked.length).toBeGreaterThan(20);

      const second = await startServer({ env, dataDir: first.dataDir });
      try {
        const hangar = createClient({ baseUrl: second.url, apiKey: second.adminKey });
        const report = await hangar.journal.verify();
        expect(report.broken).toEqual([]);
        expect(report.ok).toBe(true);
        // nothing acknowledged was lost, and nothing half-written: each event is whole (verify
        // recomputed every hash and payload, blobs included) and the two events of an append go together
        for (const stream of ['run:0', 'run:1', 'run:2', 'run:3']) {
          const all = [];
          for (let after = 0; ; ) {
            const page = await hangar.journal.read(stream, { afterSeq: after, limit: 1000 });
            all.push(...page.events);
            if (page.nextAfterSeq === null) break;
            after = page.nextAfterSeq;
          }
          const bySeq = new Map(all.map((e) => [e.seq, e.hash]));
          for (const a of load.acked.filter((e) => e.stream === stream)) expect(bySeq.get(a.seq)).toBe(a.hash);
          expect(all.map((e) => e.type)).toEqual(all.map((_, i) => (i % 2 === 0 ? 'step' : 'step.done')));
        }
        // and it takes new appends, continuing each chain
        const next = await hangar.journal.append('run:0', { events: [{ type: 'after-restart' }] });
        expect(next.events[0]!.seq).toBeGreaterThan(0);
        expect((await hangar.journal.verify('run:0')).ok).toBe(true);
      } finally {
        await second.stop();
      }
    }, 90_000);
  });
}

describe('graceful shutdown', () => {
  it('SIGTERM lets a request in flight finish, refuses new connections, then exits 0', async () => {
    const server = await startServer();
    const url = new URL('/v1/streams/shutdown/events', server.url);
    const body = JSON.stringify({ events: [{ type: 'e', payload: { text: 'x'.repeat(2000) } }] });
    // A request whose body is half sent when SIGTERM arrives: it is in flight, deterministically.
    let inFlight: http.ClientRequest | undefined;
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${server.adminKey}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.write(body.slice(0, 1000));
      inFlight = req;
    });
    await new Promise((r) => setTimeout(r, 300)); // the server has the headers and half the body
    server.process.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    const refused = await createClient({ baseUrl: server.url, apiKey: server.adminKey })
      .whoami()
      .then(() => 'accepted', (e: { code?: string }) => e.code);
    inFlight!.end(body.slice(1000));
    const res = await response;
    expect(res.status).toBe(201);
    expect(refused).toBe('network_error');
    expect(await server.stop({ keepData: true })).toBe(0);

    const again = await startServer({ dataDir: server.dataDir });
    try {
      const hangar = createClient({ baseUrl: again.url, apiKey: again.adminKey });
      expect((await hangar.journal.read('shutdown')).events.map((e) => e.seq)).toEqual([1]);
      expect((await hangar.journal.verify()).ok).toBe(true);
    } finally {
      await again.stop();
    }
  }, 60_000);
});
