// Profiling aid for the gateway hot path: calls in one process, sequential then all at once.
// Env: N, ECHO=1 (hangar/echo instead of the fake upstream), WHOAMI=1 (baseline: GET /v1/whoami),
// NO_SPAN=1, NO_SPAN_BLOBS=1, NO_JOURNAL=1 (leave a part of the record out, to see what it costs),
// ANTHROPIC=1 (the provider speaks Anthropic's format: OpenAI calls are translated).
import { performance } from 'node:perf_hooks';
import { startFakeUpstream } from '../packages/server/src/gateway/fake-upstream.js';
import { createTestApp, ADMIN_KEY } from '../packages/server/src/test-app.js';

const N = Number(process.env.N ?? 2000);
const fake = await startFakeUpstream();
fake.requests.push = () => 0;
const t = await createTestApp('sqlite');
await t.request('PUT', '/v1/gateway/providers/up', {
  body: process.env.ANTHROPIC ? { type: 'anthropic', baseUrl: fake.url } : { type: 'openai-compatible', baseUrl: fake.openaiBaseUrl },
});
await t.request('PUT', '/v1/gateway/routes/bench', {
  body: { targets: process.env.ECHO ? ['hangar/echo'] : ['up/m'] },
});
if (process.env.NO_SPAN) (t.traces as { record: unknown }).record = async () => [];
if (process.env.NO_SPAN_BLOBS) {
  const record = t.traces.record;
  (t.traces as { record: unknown }).record = (p: string, spans: Array<Record<string, unknown>>, trx: never) =>
    record(p, spans.map(({ input: _i, output: _o, ...s }) => s) as never, trx);
}
if (process.env.NO_JOURNAL) (t.journal as { append: unknown }).append = async () => [{ seq: 1 }];
const call = (i: number) =>
  process.env.WHOAMI
    ? Promise.resolve(
        t.app.request('/v1/whoami', { headers: { authorization: `Bearer ${ADMIN_KEY}` } }),
      ).then((r) => r.text())
    : Promise.resolve(
        t.app.request('/v1/chat/completions', {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            model: process.env.MODEL ?? 'bench',
            messages: [{ role: 'user', content: `question ${i}` }],
          }),
        }),
      ).then((r) => r.text());
for (let i = 0; i < 200; i++) await call(i);
// CPU time says what a call costs even when the machine is shared (this process also runs the fake provider)
const cpuMs = (since: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1000;
};
const t0 = performance.now();
const c0 = process.cpuUsage();
for (let i = 0; i < N; i++) await call(i);
await t.gateway.recorded();
console.log(
  `sequential: ${((performance.now() - t0) / N).toFixed(3)} ms/call, ${(cpuMs(c0) / N).toFixed(3)} CPU ms/call`,
);
const t1 = performance.now();
const c1 = process.cpuUsage();
await Promise.all(Array.from({ length: N }, (_, i) => call(i)));
await t.gateway.recorded();
console.log(
  `concurrent ${N}: ${((performance.now() - t1) / N).toFixed(3)} ms/call, ${(cpuMs(c1) / N).toFixed(3)} CPU ms/call`,
);
await t.close();
await fake.close();
process.exit(0);
