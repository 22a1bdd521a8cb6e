// Child process of evals.bench.ts: the suite through Hangar's runner (what `hangar eval` runs): an
// experiment in the Hangar server, every trial traced (its span exported to Hangar), results posted
// in batches. Prints RESULT {…} with its peak RSS.
import { performance } from 'node:perf_hooks';
import { runEvalHere, type Scorer } from '@hangar/sdk/evals';
import { CONCURRENCY, MODEL, TRIALS, report, suiteCases } from './_evals-suite.js';

const [modelUrl, baseUrl, apiKey] = process.argv.slice(2) as [string, string, string];

const contains: Scorer<string, string, string> = {
  name: 'contains',
  score: ({ output, expected }) => expected !== undefined && output.includes(expected),
};

async function ask(question: string, signal: AbortSignal): Promise<string> {
  const res = await fetch(`${modelUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: question }] }),
    signal,
  });
  if (!res.ok) throw new Error(`model: HTTP ${res.status}`);
  const body = (await res.json()) as { choices: { message: { content: string } }[] };
  return body.choices[0]!.message.content;
}

const started = performance.now();
const summary = await runEvalHere(
  'bench-evals',
  {
    data: (function* () {
      for (const c of suiteCases()) yield { id: c.id, input: c.question, expected: c.expected };
    })(),
    task: (question, ctx) => ask(question, ctx.signal),
    scorers: [contains],
    trials: TRIALS,
    maxConcurrency: CONCURRENCY,
  },
  { baseUrl, apiKey },
);
const seconds = (performance.now() - started) / 1000;
const score = summary.experiment.scores.find((s) => s.name === 'contains');
report({
  side: 'hangar',
  trials: summary.experiment.trialsDone,
  passed: Math.round((score?.passRate ?? 0) * (score?.n ?? 0)),
  seconds,
  maxRssMb: process.resourceUsage().maxRSS / 1024,
  cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
});
process.exit(0);
