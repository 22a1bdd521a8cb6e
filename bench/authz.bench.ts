/**
 * Authorization cost: Cedar decisions per second with a realistic project of 50 policies, and the
 * latency the Cedar authorize stage adds to an action, against the default stage (no policies, a set
 * lookup) measured in the same run.
 *
 *   npm run bench -- authz
 *
 * Environment: BENCH_N (decisions per measured pass; default 20000), BENCH_ACTIONS (actions through the
 * whole pipeline per pass; default 2000), BENCH_ROUNDS (passes, median reported; default 3).
 *
 * Policies: 50 statements of the kinds a production project has — per-team tool permits (principal in
 * User/Agent, resource sets), forbids on argument patterns, model allow-lists by agent label, payment
 * limits with @effect("require_approval"), business-hours and delegation-depth rules, intent tests.
 * Requests: 1000 actions mixing model calls, tool calls, payments and data access by agents three
 * deep in delegation chains, with arguments; every request is decided by Cedar (no cache of answers).
 *
 * Measured:
 *  - "decision": `decide()` — building the Cedar request (entities, context) and statefulIsAuthorized
 *    on the preparsed policy set — timed one call at a time for p50/p99, and as decisions/s. The
 *    request carries only what the 50 policies can read; "whole request" sends all of it to the same
 *    set (what every call sent before), and every request is checked to be decided alike both ways.
 *  - "stage": the authorize stage's before() on an action, Cedar vs default (same ActionContext).
 *  - "action": a whole pipeline run (authorize → execute (no-op) → journal record, on SQLite) with
 *    the Cedar stage vs the default stage; the difference of p50s is the latency Cedar adds per action.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Action, ActionContext, ActionKind } from '../packages/server/src/actions/action.js';
import { createActionPipeline, type Stage } from '../packages/server/src/actions/action-pipeline.js';
import { defaultPolicyStage } from '../packages/server/src/actions/default-policy.js';
import { createBlobStore } from '../packages/server/src/blobs/blob-store.js';
import { openSqlite } from '../packages/server/src/db/dialects/sqlite.js';
import { migrateToLatest } from '../packages/server/src/db/migrations/index.js';
import { createJournal } from '../packages/server/src/journal/journal-service.js';
import { compilePolicySet, decide, validatePolicyText, type AgentFacts, type DecisionInput } from '../packages/server/src/policy/cedar-engine.js';
import { createPolicies } from '../packages/server/src/policy/policy-service.js';
import { cedarPolicyStage } from '../packages/server/src/policy/policy-stage.js';
import { canonicalJson, sha256Hex } from '../packages/server/src/util/hash.js';
import { median, percentile, positiveInt } from './bench-kit.js';

const N = positiveInt('BENCH_N', 20_000);
const ACTIONS = positiveInt('BENCH_ACTIONS', 2000);
const ROUNDS = positiveInt('BENCH_ROUNDS', 3);
const GOAL_MS = 0.2;


const TEAMS = ['search', 'support', 'billing', 'ops', 'research'];
const TOOLS = ['web_search', 'fetch_url', 'send_email', 'create_ticket', 'query_db', 'shell', 'calendar', 'slack_post', 'jira', 'github'];
const MODELS = ['gpt-4o', 'gpt-4o-mini', 'o3', 'claude-sonnet', 'claude-haiku', 'llama-70b'];

/** 50 policy statements, as a project would write them (grouped in 10 saved policies of 5). */
function policies(): Array<{ id: string; text: string }> {
  const s: string[] = [];
  TEAMS.forEach((team, i) => {
    const tools = TOOLS.slice(i, i + 4).map((t) => `Tool::"${t}"`).join(', ');
    s.push(`permit(principal in User::"lead-${team}", action == Action::"tool.call", resource) when { [${tools}].contains(resource) };`);
    s.push(`permit(principal is Agent, action == Action::"tool.call", resource == Tool::"${TOOLS[i]}") when { principal.labels.contains("team=${team}") };`);
    s.push(`permit(principal is Agent, action == Action::"model.call", resource) when { principal.labels.contains("team=${team}") && context.amount <= ${(i + 1) * 200_000} };`);
    s.push(`forbid(principal is Agent, action == Action::"model.call", resource == Model::"o3") unless { principal.labels.contains("team=${team}") || principal.owner == "${team}-leads" };`);
    s.push(`@effect("require_approval")\npermit(principal in User::"lead-${team}", action == Action::"payment.create", resource) when { context.amount <= ${(i + 1) * 5_000_000} };`);
  });
  for (let i = 0; i < 5; i++) {
    s.push(`forbid(principal, action == Action::"tool.call", resource) when { context.arguments.hasTag("query") && context.arguments.getTag("query") like "*${['password', 'secret', 'ssn', 'api_key', 'token'][i]}*" };`);
    s.push(`forbid(principal, action == Action::"tool.call", resource == Tool::"shell") when { context.arguments.hasTag("cmd") && context.arguments.getTag("cmd") like "*${['rm -rf', 'curl', 'sudo', 'chmod', 'dd '][i]}*" };`);
    s.push(`forbid(principal, action == Action::"payment.create", resource) when { context.delegationDepth > ${i + 2} };`);
    s.push(`forbid(principal, action, resource) when { context.intent.declared && context.intent.readOnly && action == Action::"data.write" && context.hour >= ${i} };`);
    s.push(`permit(principal, action == Action::"data.read", resource == Data::"${['crm', 'wiki', 'orders', 'tickets', 'metrics'][i]}") when { context.intent.purpose != "" || context.delegationDepth <= ${i} };`);
  }
  if (s.length !== 50) throw new Error(`expected 50 statements, made ${s.length}`);
  const saved = [];
  for (let i = 0; i < 10; i++) {
    const text = s.slice(i * 5, i * 5 + 5).join('\n');
    const { errors } = validatePolicyText(text);
    if (errors.length) throw new Error(`bench policy ${i} is invalid: ${errors[0]!.message}`);
    saved.push({ id: `pol_bench_${i}`, text });
  }
  return saved;
}

function requests(): Array<Omit<DecisionInput, 'agents'> & { maxCostMicros: number }> {
  const out = [];
  const kinds: ActionKind[] = ['model.call', 'tool.call', 'tool.call', 'payment.create', 'data.read', 'data.write'];
  for (let i = 0; i < 1000; i++) {
    const kind = kinds[i % kinds.length]!;
    const team = TEAMS[i % TEAMS.length]!;
    const resource = kind === 'model.call' ? MODELS[i % MODELS.length]! : kind === 'tool.call' ? TOOLS[i % TOOLS.length]! : kind === 'payment.create' ? `vendor-${i % 20}` : 'orders';
    const args = kind === 'tool.call' ? { query: i % 7 === 0 ? 'reset password' : `flights to city ${i}`, cmd: 'ls -la', limit: 10 } : { amount: i * 1000, memo: `invoice ${i}` };
    out.push({
      kind,
      resource,
      actor: { principals: [{ type: 'user' as const, id: `lead-${team}` }, { type: 'agent' as const, id: `agt_${team}_planner` }, { type: 'agent' as const, id: `agt_${team}_worker_${i % 3}` }] },
      args,
      argsSha256: sha256Hex(canonicalJson(args)),
      amountMicros: (i % 50) * 100_000,
      maxCostMicros: (i % 50) * 100_000,
      intent: i % 4 === 0 ? { readOnly: true, purpose: 'report' } : null,
      delegationDepth: 1,
      now: new Date(Date.UTC(2026, 10, 25, i % 24)),
    });
  }
  return out;
}

const agents = new Map<string, AgentFacts>(
  TEAMS.flatMap((team): Array<[string, AgentFacts]> => [
    [`agt_${team}_planner`, { name: `${team}-planner`, owner: `${team}-leads`, labels: { team, env: 'prod' } }],
    ...[0, 1, 2].map((w): [string, AgentFacts] => [`agt_${team}_worker_${w}`, { name: `${team}-worker-${w}`, owner: team, labels: { team, tier: 'worker' } }]),
  ]),
);



async function timeEach(n: number, f: (i: number) => unknown): Promise<{ p50: number; p99: number; perSecond: number }> {
  const samples = new Array<number>(n);
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = f(i);
    if (r instanceof Promise) await r;
    samples[i] = performance.now() - t0;
  }
  const total = performance.now() - start;
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), perSecond: (n / total) * 1000 };
}

async function main() {
  const set = compilePolicySet('bench', policies());
  // the same policies as one set, sent what they can read (as before the set was split by action kind)
  const unsplit = compilePolicySet('bench-unsplit', policies(), { split: false });
  // the same policies as one set, sent the whole request every time (as before requests were trimmed)
  const whole = compilePolicySet('bench-whole', policies(), { split: false, trim: false });
  const reqs = requests();
  const tally = { allow: 0, deny: 0, require_approval: 0 };
  for (const r of reqs) {
    const d = decide(set, { ...r, agents });
    for (const other of [unsplit, whole]) {
      const w = decide(other, { ...r, agents });
      if (JSON.stringify(d) !== JSON.stringify(w)) throw new Error(`split and whole sets decide differently: ${JSON.stringify([d, w])}`);
    }
    tally[d.effect]++;
  }

  const defaultStage = defaultPolicyStage();
  const ctxOf = (i: number): ActionContext => {
    const r = reqs[i % reqs.length]!;
    const action: Action = { kind: r.kind, projectId: 'prj_bench', actor: r.actor, resource: r.resource, args: r.args, maxCostMicros: r.maxCostMicros };
    return { id: 'act', action, argsSha256: r.argsSha256, startedAt: new Date().toISOString(), decision: null, hold: null, settledMicros: null, details: {} };
  };

  // Whole actions on SQLite: the project's policies saved through the service, like a server.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hangar-bench-authz-'));
  const opened = openSqlite(dir);
  await migrateToLatest(opened.db, opened.types);
  const journal = createJournal({ db: opened.db, blobs: createBlobStore({ dir: opened.blobDir }) });
  const policySvc = createPolicies({ db: opened.db, journal });
  await opened.db.insertInto('organizations').values({ id: 'org_b', name: 'b', created_at: 'x' }).execute();
  await opened.db.insertInto('projects').values({ id: 'prj_bench', organization_id: 'org_b', name: 'b', retention_days: null, created_at: 'x' }).execute();
  for (const p of policies()) {
    await opened.db.insertInto('policies').values({ id: p.id, project_id: 'prj_bench', name: p.id, description: '', text: p.text, created_at: 'x', updated_at: 'x' }).execute();
  }
  for (const [id, a] of agents) {
    await opened.db.insertInto('agents').values({ id, project_id: 'prj_bench', name: a.name, owner: a.owner, description: '', labels: JSON.stringify(a.labels), created_at: 'x', revoked_at: null }).execute();
  }
  const cedarStage = cedarPolicyStage({ policies: policySvc });
  const swallow = async (stage: Stage, ctx: ActionContext) => {
    try {
      await stage.before!(ctx);
    } catch {
      // refusals are decisions too
    }
  };
  const pipelineWith = (stage: Stage) => createActionPipeline({ db: opened.db, journal, stages: [stage] });
  const cedarPipeline = pipelineWith(cedarStage);
  const defaultPipeline = pipelineWith(defaultStage);
  const runAction = (pipeline: ReturnType<typeof pipelineWith>, i: number) =>
    pipeline.run(ctxOf(i).action, async () => ({ value: null, costMicros: 0 })).catch(() => null);

  // warm up every path
  for (let i = 0; i < 2000; i++) {
    decide(set, { ...reqs[i % reqs.length]!, agents });
    decide(unsplit, { ...reqs[i % reqs.length]!, agents });
    decide(whole, { ...reqs[i % reqs.length]!, agents });
  }
  for (let i = 0; i < 300; i++) {
    await swallow(cedarStage, ctxOf(i));
    await runAction(cedarPipeline, i);
    await runAction(defaultPipeline, i);
  }

  const rounds: Record<string, Array<{ p50: number; p99: number; perSecond: number }>> = {
    'decision: cedar, 50 policies': [],
    'decision: cedar, one set (not split by action)': [],
    'decision: cedar, one set, whole request': [],
    'decision: default (no policies)': [],
    'stage: cedar authorize': [],
    'stage: default authorize': [],
    'action: cedar stage': [],
    'action: default stage': [],
  };
  for (let r = 0; r < ROUNDS; r++) {
    rounds['decision: cedar, 50 policies']!.push(await timeEach(N, (i) => decide(set, { ...reqs[i % reqs.length]!, agents })));
    rounds['decision: cedar, one set (not split by action)']!.push(await timeEach(N, (i) => decide(unsplit, { ...reqs[i % reqs.length]!, agents })));
    rounds['decision: cedar, one set, whole request']!.push(await timeEach(N, (i) => decide(whole, { ...reqs[i % reqs.length]!, agents })));
    rounds['decision: default (no policies)']!.push(await timeEach(N, (i) => decide(null, { ...reqs[i % reqs.length]!, agents })));
    rounds['stage: cedar authorize']!.push(await timeEach(N / 4, (i) => swallow(cedarStage, ctxOf(i))));
    rounds['stage: default authorize']!.push(await timeEach(N / 4, (i) => swallow(defaultStage, ctxOf(i))));
    rounds['action: cedar stage']!.push(await timeEach(ACTIONS, (i) => runAction(cedarPipeline, i)));
    rounds['action: default stage']!.push(await timeEach(ACTIONS, (i) => runAction(defaultPipeline, i)));
  }
  await opened.close();
  rmSync(dir, { recursive: true, force: true });

  const rows = Object.entries(rounds).map(([name, rs]) => ({
    name,
    p50: median(rs.map((x) => x.p50)),
    p99: median(rs.map((x) => x.p99)),
    perSecond: median(rs.map((x) => x.perSecond)),
  }));
  const fmt = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;
  console.log(`authz benchmark — ${ROUNDS} rounds, median of each; decisions on the request mix: ${JSON.stringify(tally)}`);
  console.log('| measured | p50 | p99 | per second |');
  console.log('|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.name} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${Math.round(r.perSecond).toLocaleString('en-US')} |`);
  const by = Object.fromEntries(rows.map((r) => [r.name, r]));
  const decision = by['decision: cedar, 50 policies']!.p50;
  const added = by['action: cedar stage']!.p50 - by['action: default stage']!.p50;
  console.log(`\nCedar decision p50: ${fmt(decision)} (goal < ${GOAL_MS * 1000} µs: ${decision < GOAL_MS ? 'met' : 'NOT met'}); one set / split: ${(by['decision: cedar, one set (not split by action)']!.p50 / decision).toFixed(2)}; one set, whole request / split: ${(by['decision: cedar, one set, whole request']!.p50 / decision).toFixed(2)}`);
  console.log(`Latency Cedar adds per action (p50 difference of whole actions): ${fmt(added)}; action p50 ratio cedar/default: ${(by['action: cedar stage']!.p50 / by['action: default stage']!.p50).toFixed(2)}`);
}

await main();
