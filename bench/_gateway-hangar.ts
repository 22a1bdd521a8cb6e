// Child process of gateway.bench.ts: a Hangar server (SQLite in a temp dir) with routes to the fake
// upstream, in its OpenAI format and (translated) in its Anthropic one. Prints its URL once the route exists.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../packages/server/src/config.js';
import { startServer } from '../packages/server/src/serve.js';

const [upstream, adminKey] = process.argv.slice(2) as [string, string];
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hangar-bench-gw-'));
const server = await startServer(
  loadConfig(
    { ...process.env, HANGAR_LOG_LEVEL: process.env.HANGAR_LOG_LEVEL ?? 'warn' },
    { port: 0, dataDir, adminKey, webDir: null },
  ),
);
const put = async (p: string, body: unknown) => {
  const res = await fetch(server.url + p, {
    method: 'PUT',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`);
};
await put('/v1/gateway/providers/up', { type: 'openai-compatible', baseUrl: `${upstream}/v1` });
await put('/v1/gateway/routes/bench', { targets: ['up/bench-model'] });
// the same fake provider spoken to in Anthropic's format: OpenAI-format calls to it are translated
await put('/v1/gateway/providers/ant', { type: 'anthropic', baseUrl: upstream });
await put('/v1/gateway/routes/bench-claude', { targets: ['ant/bench-model'] });
console.log(`HANGAR ${server.url}`);
process.on('SIGTERM', () => {
  void server.close().then(() => {
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  });
});
