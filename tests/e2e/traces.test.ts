import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './harness.js';

const APP = fileURLToPath(new URL('./fixtures/otel-app.mjs', import.meta.url));
const run = promisify(execFile);

interface Row {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  kind: string;
  status: string;
  status_message: string | null;
  error_type: string | null;
  agent: string | null;
  model: string | null;
  tool_name: string | null;
  tokens_input: number | null;
  cost_micros: number | null;
  input_sha256: string | null;
}

/**
 * The standard OTel env vars pointed at a real `hangar up` just work: the real Node SDK with the
 * protobuf and the JSON OTLP exporters, configured by nothing but OTEL_* variables.
 */
describe('OTLP export from an OpenTelemetry app to hangar up', () => {
  let server: TestServer;
  let ingestKey: string;

  beforeAll(async () => {
    server = await startServer();
    const res = await fetch(`${server.url}/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'otel-exporter', role: 'ingest-only' }),
    });
    ingestKey = ((await res.json()) as { key: string }).key;
  });
  afterAll(async () => {
    await server?.stop();
  });

  function spansOf(service: string): Row[] {
    const db = new SQLite(path.join(server.dataDir, 'hangar.db'), { readonly: true });
    try {
      return db.prepare('select * from spans where service_name = ? order by start_time, name').all(service) as Row[];
    } finally {
      db.close();
    }
  }

  async function export_(exporter: 'proto' | 'http', service: string, env: Record<string, string> = {}) {
    await run(process.execPath, [APP, exporter], {
      cwd: path.dirname(APP),
      env: {
        PATH: process.env.PATH,
        OTEL_EXPORTER_OTLP_ENDPOINT: server.url,
        OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${ingestKey}`,
        OTEL_SERVICE_NAME: service,
        ...env,
      },
      timeout: 30_000,
    });
    return spansOf(service);
  }

  const cases: [string, 'proto' | 'http', Record<string, string>][] = [
    ['protobuf (exporter-trace-otlp-proto)', 'proto', {}],
    ['protobuf, gzip', 'proto', { OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' }],
    ['JSON (exporter-trace-otlp-http)', 'http', {}],
    ['JSON, gzip', 'http', { OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' }],
  ];
  for (const [name, exporter, env] of cases) {
    it(name, async () => {
      const service = `app-${exporter}-${Object.keys(env).length ? 'gzip' : 'plain'}`;
      const rows = await export_(exporter, service, env);
      expect(rows).toHaveLength(4);
      const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
      const root = byName['invoke_agent planner']!;
      expect(root).toMatchObject({ kind: 'agent', agent: 'planner', parent_span_id: null });
      expect(new Set(rows.map((r) => r.trace_id)).size).toBe(1);
      for (const child of ['chat gpt-4o', 'execute_tool get_weather', 'book ticket']) expect(byName[child]!.parent_span_id).toBe(root.span_id);
      // gpt-4o-2024-08-06: 2000 × $2.50/M + 300 × $10/M = 5000 + 3000 micro-USD
      expect(byName['chat gpt-4o']).toMatchObject({ kind: 'llm', model: 'gpt-4o-2024-08-06', tokens_input: 2000, cost_micros: 8000 });
      expect(byName['chat gpt-4o']!.input_sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(byName['execute_tool get_weather']).toMatchObject({ kind: 'tool', tool_name: 'get_weather' });
      expect(byName['book ticket']).toMatchObject({ status: 'error', status_message: 'no seats left', error_type: 'TypeError' });
    });
  }

  it('a wrong key is refused: the exporter reports it and nothing is stored', async () => {
    const failed = export_('proto', 'app-wrong-key', { OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20hk_${'x'.repeat(32)}` });
    await expect(failed).rejects.toMatchObject({ code: 3, stderr: expect.stringMatching(/export failed: Unauthorized/) });
    expect(spansOf('app-wrong-key')).toEqual([]);
  });
});
