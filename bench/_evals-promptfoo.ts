// Child process of evals.bench.ts: the suite through promptfoo's evaluate() (its Node API, as its CLI
// runs it), its OpenAI provider pointed at the scripted model, cache off, results written to its
// database as `promptfoo eval` does. Prints RESULT {…} with its peak RSS.
import { performance } from 'node:perf_hooks';
import promptfoo from 'promptfoo';
import { CONCURRENCY, MODEL, TRIALS, report, suiteCases } from './_evals-suite.js';

const modelUrl = process.argv[2]!;
const tests = [...suiteCases()].map((c) => ({
  vars: { question: c.question },
  assert: [{ type: 'contains' as const, value: c.expected }],
}));

const started = performance.now();
const summary = await promptfoo.evaluate(
  {
    prompts: ['{{question}}'],
    providers: [{ id: `openai:chat:${MODEL}`, config: { apiBaseUrl: `${modelUrl}/v1`, apiKey: 'bench' } }],
    tests,
    writeLatestResults: true,
  },
  { maxConcurrency: CONCURRENCY, repeat: TRIALS, cache: false, showProgressBar: false },
);
const seconds = (performance.now() - started) / 1000;
const results = (await summary.toEvaluateSummary()).results;
report({
  side: 'promptfoo',
  trials: results.length,
  passed: results.filter((r) => r.success).length,
  seconds,
  maxRssMb: process.resourceUsage().maxRSS / 1024,
  cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
});
process.exit(0);
