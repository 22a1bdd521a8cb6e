import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type HangarClient } from '@hangar/sdk';
import { runEvalHere } from '@hangar/sdk/evals';
import { MODEL } from '../../examples/support-agent/scripted-model.js';
import { installScriptedModel } from '../../examples/support-agent/setup.js';
import { startServer, type TestServer } from './harness.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HANGAR = path.join(root, 'packages/cli/bin/hangar.js');
const EXAMPLE = path.join(root, 'examples/support-agent');
const CAREFUL = readFileSync(path.join(EXAMPLE, 'prompt.md'), 'utf8');

async function hangar(args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [HANGAR, ...args], { env: { ...process.env, ...env }, cwd: root });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('hangar eval: the support-agent example as a CI gate', () => {
  let server: TestServer;
  let client: HangarClient;
  let env: Record<string, string>;
  let dir: string;
  const out = (name: string) => path.join(dir, name);

  beforeAll(async () => {
    server = await startServer();
    await installScriptedModel(server.url, server.adminKey);
    client = createClient({ baseUrl: server.url, apiKey: server.adminKey });
    dir = mkdtempSync(path.join(tmpdir(), 'hangar-eval-gate-'));
    // the prompt the agent reads: the example's own, then a hastier edit of it
    writeFileSync(out('prompt.md'), CAREFUL);
    env = { HANGAR_URL: server.url, HANGAR_API_KEY: server.adminKey, SUPPORT_AGENT_PROMPT: out('prompt.md') };
  });
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('says what to do when there is no baseline yet', async () => {
    const run = await hangar(['eval', EXAMPLE, '--baseline', 'support-agent@latest', '--fail-on', 'regression', '--no-progress'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/No baseline: there is no completed experiment named 'support-agent' yet\. Record one by running this eval without --baseline/);
    // nothing ran: the baseline is looked up before the trials
    expect((await client.experiments.list({ name: 'support-agent' })).experiments).toHaveLength(0);
  }, 120_000);

  it('records a run as an experiment with traced, scored trials and a cost', async () => {
    writeFileSync(out('prompt.md'), CAREFUL.replace('Style: careful', 'Style: hasty'));
    const run = await hangar(['eval', EXAMPLE, '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    const [report] = JSON.parse(run.stdout) as { experiment: { id: string; trialsDone: number; costMicros: number; status: string } }[];
    expect(report!.experiment).toMatchObject({ trialsDone: 60, status: 'completed' });
    expect(report!.experiment.costMicros).toBeGreaterThan(0);
    // not a TTY: plain progress lines on stderr, ending at 60/60
    expect(run.stderr).toMatch(/support-agent\s+\[#+\]\s+60\/60\s+100%.*cost \$0\.\d+\s+pass \d+\.\d%/);

    const { results } = await client.experiments.results(report!.experiment.id, { limit: 100 });
    const looked = results.find((r) => r.scores.some((s) => s.name === 'right_tool' && s.value === 1))!;
    const tree = await client.traces.get(looked.traceId!);
    const root = tree.spans.find((s) => s.attributes['hangar.eval.case_id'] === looked.caseId)!;
    expect(root.attributes).toMatchObject({ 'hangar.eval.experiment_id': report!.experiment.id, 'hangar.eval.trial': looked.trial });
    // the gateway's spans of the trial's model calls are in the trial's trace
    expect(tree.spans.filter((s) => s.source === 'gateway').length).toBeGreaterThanOrEqual(2);
    expect(tree.spans.some((s) => s.kind === 'tool' && s.toolName === 'lookup_order') || looked.caseId.startsWith('refund')).toBe(true);
  }, 180_000);

  it('passes a better prompt and fails a worse one: exit code, JUnit and Markdown follow the verdict', async () => {
    // careful vs the hasty baseline: a significant improvement, which passes
    writeFileSync(out('prompt.md'), CAREFUL);
    const better = await hangar(
      ['eval', EXAMPLE, '--baseline', 'support-agent@latest', '--fail-on', 'regression', '--junit', out('better.xml'), '--markdown', out('better.md')],
      env,
    );
    expect(better.code, better.stderr).toBe(0);
    expect(better.stdout).toMatch(/vs baseline exp_\w+: improved/);
    expect(readFileSync(out('better.xml'), 'utf8')).not.toContain('<failure');
    expect(readFileSync(out('better.md'), 'utf8')).toMatch(/\*\*Passed\*\*/);

    // hasty again vs the careful run just recorded (now support-agent@latest): a significant regression
    writeFileSync(out('prompt.md'), CAREFUL.replace('Style: careful', 'Style: hasty'));
    const worse = await hangar(
      ['eval', EXAMPLE, '--baseline', 'support-agent@latest', '--fail-on', 'regression', '--junit', out('worse.xml'), '--markdown', out('worse.md')],
      env,
    );
    expect(worse.code).toBe(1);
    expect(worse.stderr).toMatch(/gate failed: support-agent \(significant regression in [a-z_, ]*answer/);
    const junit = readFileSync(out('worse.xml'), 'utf8');
    expect(junit).toMatch(/<testcase classname="support-agent" name="answer vs baseline">\s*<failure message="answer regressed">/);
    const markdown = readFileSync(out('worse.md'), 'utf8');
    expect(markdown).toMatch(/\*\*Failed\*\*: support-agent/);
    expect(markdown).toMatch(/\| answer \| [01]\.\d{3} \| 0\.\d{3} \| -0\.\d{3} \|.*\*\*regressed\*\* \|/);

    // the same run without --fail-on reports the regression but does not fail
    const report = await hangar(['eval', EXAMPLE, '--baseline', 'support-agent@latest', '--no-progress'], env);
    expect(report.code).toBe(0);
  }, 480_000);

  it('stops a runaway eval at its budget: the gateway refuses the credential, the experiment ends stopped', async () => {
    const budgetMicros = 5_000;
    let calls = 0;
    const summary = await runEvalHere(
      'runaway',
      {
        data: Array.from({ length: 200 }, (_, i) => ({ id: `loop-${i}`, input: `Where is my order #100${i % 8}?` })),
        task: async (ticket, ctx) => {
          calls++;
          const res = await ctx.gateway.fetch(`${ctx.gateway.baseURL}/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${ctx.gateway.apiKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({ model: MODEL, max_tokens: 50, messages: [{ role: 'user', content: ticket }] }),
            signal: ctx.signal,
          });
          if (!res.ok) throw new Error(`gateway: ${res.status} ${await res.text()}`);
          return ((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content;
        },
        scorers: [{ name: 'answered', score: ({ output }) => typeof output === 'string' && output.length > 0 }],
        maxConcurrency: 2,
        budgetMicros,
      },
      { baseUrl: server.url, apiKey: server.adminKey },
    );
    expect(summary.stopped).toBe('budget');
    expect(summary.experiment.status).toBe('stopped');
    expect(summary.experiment.agentId).not.toBeNull();
    expect(summary.trialsRun).toBeGreaterThan(0);
    expect(summary.trialsRun).toBeLessThan(50);
    expect(calls).toBeLessThan(60);
    // what the trials were charged stayed within the budget
    expect(summary.experiment.costMicros).toBeGreaterThan(0);
    expect(summary.experiment.costMicros).toBeLessThanOrEqual(budgetMicros);
  }, 120_000);

  it('runs on a stored dataset version, and an interrupted run resumes where it stopped', async () => {
    const cases = Array.from({ length: 40 }, (_, i) => ({ id: `q${i}`, input: i, expected: i % 3 === 0 ? -1 : i * i }));
    const stop = new AbortController();
    let started = 0;
    await client.datasets.create({ name: 'squares', cases });
    const squares = {
      data: { dataset: 'squares' },
      task: async (n: number) => {
        // the first run is interrupted from inside its 25th trial: deterministic however fast it runs
        if (++started === 25) stop.abort();
        await new Promise((r) => setTimeout(r, 5));
        return n * n;
      },
      scorers: [{ name: 'square', score: ({ output, expected }: { output: number; expected: unknown }) => output === expected }],
      trials: 2,
      maxConcurrency: 4,
    };
    const first = await runEvalHere('squares', squares, {
      baseUrl: server.url,
      apiKey: server.adminKey,
      batchSize: 10,
      signal: stop.signal,
    });
    expect(first.stopped).toBe('interrupted');
    expect(first.experiment).toMatchObject({ status: 'running', datasetVersion: 1, casesTotal: 40 });
    const before = first.trialsRun;
    expect(before).toBeGreaterThanOrEqual(25);
    expect(before).toBeLessThan(80);

    const resumed = await runEvalHere('squares', squares, { baseUrl: server.url, apiKey: server.adminKey, resume: first.experiment.id });
    expect(resumed).toMatchObject({ stopped: null, trialsSkipped: before, trialsRun: 80 - before });
    expect(resumed.experiment).toMatchObject({ id: first.experiment.id, status: 'completed', trialsDone: 80 });
    const { results } = await client.experiments.results(first.experiment.id, { limit: 100 });
    expect(new Set(results.map((r) => `${r.caseId}/${r.trial}`)).size).toBe(80);
    expect(resumed.experiment.scores.find((s) => s.name === 'square')!.mean).toBeCloseTo(26 / 40, 5);
  }, 120_000);

  it('rarely cries wolf: two runs of the same noisy agent are called a regression at about the rate alpha', async () => {
    // an agent right 70 % of the time, whatever the prompt: any "regression" between two of its runs is noise
    const noisy = {
      data: Array.from({ length: 15 }, (_, i) => ({ id: `n${i}`, input: i })),
      task: async () => Math.random() < 0.7,
      scorers: [{ name: 'right', score: ({ output }: { output: boolean }) => output }],
      trials: 2,
      maxConcurrency: 8,
    };
    const run = async () => (await runEvalHere('noisy-agent', noisy, { baseUrl: server.url, apiKey: server.adminKey })).experiment.id;
    const pairs = 20;
    let regressions = 0;
    for (let i = 0; i < pairs; i++) {
      const baseline = await run();
      const candidate = await run();
      const comparison = await client.experiments.compare(candidate, baseline, { alpha: 0.05 });
      expect(comparison.metrics[0]!.pairs).toBe(15);
      if (comparison.verdict === 'regressed') regressions++;
    }
    // at alpha 0.05, five or more false alarms in 20 comparisons has probability 0.003 for a calibrated test
    expect(regressions).toBeLessThanOrEqual(4);
  }, 300_000);
});
