import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { detectDrift, type JudgeCall } from '@hangar/evals';
import type {
  CreateOnlineEvalRuleRequest,
  DriftAlert,
  DriftAlertList,
  OnlineEvalRule,
  OnlineEvalRuleWithSecret,
  OnlineScorer,
  SpanScore,
  UpdateOnlineEvalRuleRequest,
} from '@hangar/protocol';
import { CreateOnlineEvalRuleRequest as CreateRuleSchema } from '@hangar/protocol';
import type { Database } from '../db/schema.js';
import type { Gateway } from '../gateway/gateway-service.js';
import { ApiError } from '../http/api-error.js';
import { journalActorOf, type AuthContext } from '../http/app-env.js';
import type { Journal } from '../journal/journal-service.js';
import { createTenancyStore } from '../tenancy/tenancy-store.js';
import type { TraceQueryService } from '../traces/trace-query-service.js';
import { newId } from '../util/ids.js';
import type { Webhooks } from '../webhooks/webhook-service.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { EVALS_STREAM } from './datasets-service.js';
import { checkScorer, scoreSpan, type SpanView } from './online-scorers.js';
import { createOnlineEvalsStore, type CandidateSpan, type DriftAlertRow, type RuleRow, type SpanScoreRow } from './online-evals-store.js';

/** The agent name of the judge's own model calls: the worker never scores them (no judging the judge). */
export const JUDGE_AGENT = 'hangar-online-eval';
const HOUR_MS = 3_600_000;

export interface OnlineEvalsOptions {
  db: Kysely<Database>;
  journal: Journal;
  traceQuery: TraceQueryService;
  gateway: Gateway;
  webhooks: Webhooks;
  logger?: Logger;
  now?: () => number;
  /** Spans are read only once they have been stored this long, so a slow insert is never skipped. */
  settleMs?: number;
  /** How long a process holds a rule while it scores a batch. */
  leaseMs?: number;
  /** Spans read per rule per tick. */
  batchSize?: number;
  /** Fewer scores than this in either window: no drift test. */
  minWindowScores?: number;
}

/** Whether a rule samples a span: the same answer in every process (a hash of rule and span id). */
export function sampled(ruleId: string, traceId: string, spanId: string, rate: number): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  const h = createHash('sha256').update(`${ruleId}/${traceId}/${spanId}`).digest();
  return h.readUInt32BE(0) / 0x1_0000_0000 < rate;
}

/** Refuses a scorer the worker could not run: a regex or JSON Schema that does not compile. */
function refuseBadScorer(scorer: OnlineScorer): void {
  try {
    checkScorer(scorer);
  } catch (err) {
    const path = scorer.type === 'regex' ? 'json.scorer.pattern' : 'json.scorer';
    throw new ApiError('validation_failed', `${path.slice(5)}: ${(err as Error).message}`, { details: { issues: [{ path, message: (err as Error).message }] } });
  }
}

function toRule(r: RuleRow, withSecret: boolean): OnlineEvalRuleWithSecret {
  return {
    id: r.id,
    name: r.name,
    scorer: JSON.parse(r.scorer) as OnlineScorer,
    sampleRate: Number(r.sample_rate),
    filter: JSON.parse(r.filter) as OnlineEvalRule['filter'],
    enabled: Number(r.enabled) === 1,
    drift: JSON.parse(r.drift) as OnlineEvalRule['drift'],
    webhookUrl: r.webhook_url,
    webhookSecret: withSecret ? r.webhook_secret : null,
    createdAt: r.created_at,
  };
}

function toScore(r: SpanScoreRow): SpanScore {
  return {
    ruleId: r.rule_id,
    traceId: r.trace_id,
    spanId: r.span_id,
    name: r.name,
    value: r.value === null ? null : Number(r.value),
    pass: r.pass === null ? null : Number(r.pass) === 1,
    error: r.error,
    createdAt: r.created_at,
  };
}

function toAlert(r: DriftAlertRow): DriftAlert {
  return {
    id: r.id,
    ruleId: r.rule_id,
    metric: r.metric,
    referenceMean: Number(r.reference_mean),
    recentMean: Number(r.recent_mean),
    referenceN: Number(r.reference_n),
    recentN: Number(r.recent_n),
    test: r.test as DriftAlert['test'],
    pValue: Number(r.p_value),
    windowStart: r.window_start,
    windowEnd: r.window_end,
    createdAt: r.created_at,
    acknowledgedAt: r.acknowledged_at,
  };
}

function hasTag(span: CandidateSpan, tag: string): boolean {
  const attributes = JSON.parse(span.attributes) as Record<string, unknown>;
  const one = attributes['hangar.tag'];
  const many = attributes['hangar.tags'];
  return one === tag || (Array.isArray(many) && many.includes(tag)) || (typeof many === 'string' && many.split(',').map((t) => t.trim()).includes(tag));
}

/**
 * Online evals: rules that score production spans in the background (never on the ingest path), the
 * scores, and a drift monitor per rule that alerts (once per window, with a signed webhook) when the
 * recent window's scores fall from the reference window's.
 */
export function createOnlineEvals(options: OnlineEvalsOptions) {
  const { db, journal, traceQuery, gateway, webhooks, logger } = options;
  const now = options.now ?? Date.now;
  const settleMs = options.settleMs ?? 5000;
  const leaseMs = options.leaseMs ?? 120_000;
  const batchSize = options.batchSize ?? 200;
  const minWindowScores = options.minWindowScores ?? 10;
  const iso = (ms: number) => new Date(ms).toISOString();

  /** The judge reaches models through the gateway in-process: traced, priced, budgeted like any call. */
  function judgeFor(projectId: string): JudgeCall {
    return async ({ model, messages }) => {
      const project = await createTenancyStore(db).getProject(projectId);
      if (!project) throw new Error(`project ${projectId} is gone`);
      const auth: AuthContext = {
        key: { id: 'system:online-evals', projectId, name: JUDGE_AGENT, role: 'member', prefix: 'system', createdAt: project.createdAt, lastUsedAt: null, revokedAt: null },
        project,
        role: 'member',
        actor: { principals: [{ type: 'service', id: 'online-evals' }] },
      };
      const result = await gateway.call({
        auth,
        endpoint: 'chat',
        body: { model, messages, temperature: 0, max_tokens: 512 },
        headers: (name) => (name === 'x-hangar-agent' ? JUDGE_AGENT : undefined),
        signal: AbortSignal.timeout(120_000),
      });
      if (result.kind !== 'json') throw new Error('the judge answered with a stream');
      const choices = result.body.choices as Array<{ message?: { content?: unknown } }> | undefined;
      const text = choices?.[0]?.message?.content;
      if (typeof text !== 'string') throw new Error('the judge gave no text');
      return { text };
    };
  }

  /** Scores the next batch of a rule's spans and moves its cursor past them; how many were read and scored. */
  async function scoreBatch(rule: RuleRow): Promise<{ read: number; scored: number }> {
    const store = createOnlineEvalsStore(db);
    const filter = JSON.parse(rule.filter) as OnlineEvalRule['filter'];
    const scorer = JSON.parse(rule.scorer) as OnlineScorer;
    const cursor = { at: rule.cursor_at, key: rule.cursor_key };
    const spans = await store.spansSince(rule.project_id, cursor, iso(now() - settleMs), filter, batchSize);
    if (spans.length === 0) return { read: 0, scored: 0 };
    const rows: SpanScoreRow[] = [];
    for (const span of spans) {
      if (span.agent === JUDGE_AGENT) continue;
      if (filter.tag !== undefined && !hasTag(span, filter.tag)) continue;
      if (!sampled(rule.id, span.trace_id, span.span_id, Number(rule.sample_rate))) continue;
      const detail = await traceQuery.span(rule.project_id, span.trace_id, span.span_id);
      if (!detail) continue;
      const view: SpanView = { input: detail.input, output: detail.output, durationMs: detail.durationMs, costMicros: detail.costMicros };
      const outcome = await scoreSpan(scorer, view, judgeFor(rule.project_id));
      rows.push({
        project_id: rule.project_id,
        rule_id: rule.id,
        trace_id: span.trace_id,
        span_id: span.span_id,
        name: rule.name,
        value: outcome.value,
        pass: outcome.pass === null ? null : outcome.pass ? 1 : 0,
        error: outcome.error,
        span_time: span.start_time,
        created_at: iso(now()),
      });
    }
    const last = spans.at(-1)!;
    await db.transaction().execute(async (trx) => {
      const s = createOnlineEvalsStore(trx);
      await s.insertScores(rows);
      await s.advance(rule.id, { at: last.ingested_at!, key: `${last.trace_id}/${last.span_id}` });
    });
    return { read: spans.length, scored: rows.length };
  }

  /** Compares the rule's recent window with its reference window; writes one alert per window when it drifts. */
  async function checkDrift(rule: RuleRow): Promise<DriftAlert | null> {
    const store = createOnlineEvalsStore(db);
    const drift = JSON.parse(rule.drift) as OnlineEvalRule['drift'];
    const windowMs = drift.windowHours * HOUR_MS;
    const end = now();
    const start = end - windowMs;
    const latest = await store.latestAlert(rule.id);
    if (latest && Date.parse(latest.created_at) > start) return null;
    const recent = await store.scoresInWindow(rule.id, iso(start), iso(end));
    const reference = await store.scoresInWindow(rule.id, iso(start - drift.referenceHours * HOUR_MS), iso(start));
    if (recent.length < minWindowScores || reference.length < minWindowScores) return null;
    const binary = [...recent, ...reference].every((s) => s.pass !== null);
    const values = (rows: typeof recent) => rows.flatMap((s) => (binary ? [Number(s.pass)] : s.value === null ? [] : [Number(s.value)]));
    const result = detectDrift(values(reference), values(recent), { alpha: drift.alpha, binary, direction: 'drop' });
    if (!result.drifted || result.pValue === null || result.referenceMean === null || result.recentMean === null) return null;
    const row: DriftAlertRow = {
      id: newId('dft'),
      project_id: rule.project_id,
      rule_id: rule.id,
      bucket: String(Math.floor(end / windowMs)),
      metric: rule.name,
      reference_mean: result.referenceMean,
      recent_mean: result.recentMean,
      reference_n: result.referenceN,
      recent_n: result.recentN,
      test: result.test,
      p_value: result.pValue,
      window_start: iso(start),
      window_end: iso(end),
      created_at: iso(end),
      acknowledged_at: null,
    };
    const fired = await db.transaction().execute(async (trx) => {
      if (!(await createOnlineEvalsStore(trx).insertAlert(row))) return false;
      const alert = toAlert(row);
      await journal.append(
        { projectId: rule.project_id, stream: EVALS_STREAM, actor: { type: 'system', id: 'online-evals' }, events: [{ type: 'online_eval.drift', payload: alert }] },
        trx,
      );
      if (rule.webhook_url && rule.webhook_secret) {
        await webhooks.enqueue(
          { projectId: rule.project_id, url: rule.webhook_url, secret: rule.webhook_secret, type: 'eval.drift', data: { ...alert, ruleName: rule.name } },
          trx,
        );
      }
      return true;
    });
    if (!fired) return null;
    void webhooks.deliverDue().catch((err: unknown) => logger?.error({ err }, 'webhook delivery failed'));
    return toAlert(row);
  }

  async function tick(): Promise<{ scored: number; alerts: number }> {
    const store = createOnlineEvalsStore(db);
    let scored = 0;
    let alerts = 0;
    for (const rule of await store.dueRules(iso(now()), 100)) {
      if (!(await store.claim(rule.id, rule.lease_until, iso(now() + leaseMs)))) continue;
      try {
        for (let i = 0; i < 50; i++) {
          const fresh = (await store.getRule(rule.project_id, rule.id)) ?? rule;
          const batch = await scoreBatch(fresh);
          scored += batch.scored;
          if (batch.read < batchSize) break;
        }
        if (await checkDrift(rule)) alerts++;
      } catch (err) {
        logger?.error({ err, ruleId: rule.id }, 'online eval failed');
      } finally {
        await store.release(rule.id, iso(now())).catch((err: unknown) => logger?.error({ err, ruleId: rule.id }, 'online eval lease not released'));
      }
    }
    return { scored, alerts };
  }

  let running: Promise<{ scored: number; alerts: number }> | null = null;

  async function findRule(projectId: string, id: string): Promise<RuleRow> {
    const row = await createOnlineEvalsStore(db).getRule(projectId, id);
    if (!row) throw new ApiError('not_found', `No online eval rule ${id} in this project.`);
    return row;
  }

  async function journalRule(auth: AuthContext, type: string, payload: unknown, trx: Kysely<Database>) {
    await journal.append({ projectId: auth.project.id, stream: EVALS_STREAM, actor: journalActorOf(auth), events: [{ type, payload }] }, trx);
  }

  return {
    async createRule(auth: AuthContext, input: CreateOnlineEvalRuleRequest): Promise<OnlineEvalRuleWithSecret> {
      const req = CreateRuleSchema.parse(input);
      refuseBadScorer(req.scorer);
      const at = iso(now());
      const row: RuleRow = {
        id: newId('oer'),
        project_id: auth.project.id,
        name: req.name,
        scorer: JSON.stringify(req.scorer),
        sample_rate: req.sampleRate,
        filter: JSON.stringify(req.filter),
        enabled: req.enabled ? 1 : 0,
        drift: JSON.stringify(req.drift),
        webhook_url: req.webhookUrl ?? null,
        webhook_secret: req.webhookUrl ? `whsec_${randomBytes(24).toString('base64url')}` : null,
        // a new rule scores spans stored from now on
        cursor_at: at,
        cursor_key: '',
        lease_until: at,
        deleted_at: null,
        created_at: at,
        updated_at: at,
      };
      await db.transaction().execute(async (trx) => {
        await createOnlineEvalsStore(trx).insertRule(row);
        await journalRule(auth, 'online_eval.rule_created', toRule(row, false), trx);
      });
      return toRule(row, true);
    },

    async listRules(projectId: string, options: { includeSecrets: boolean }): Promise<OnlineEvalRuleWithSecret[]> {
      return (await createOnlineEvalsStore(db).listRules(projectId)).map((r) => toRule(r, options.includeSecrets));
    },

    async getRule(projectId: string, id: string, options: { includeSecrets: boolean }): Promise<OnlineEvalRuleWithSecret> {
      return toRule(await findRule(projectId, id), options.includeSecrets);
    },

    async updateRule(auth: AuthContext, id: string, input: UpdateOnlineEvalRuleRequest): Promise<OnlineEvalRuleWithSecret> {
      const row = await findRule(auth.project.id, id);
      if (input.scorer !== undefined) refuseBadScorer(input.scorer);
      const changes: Partial<RuleRow> = { updated_at: iso(now()) };
      if (input.name !== undefined) changes.name = input.name;
      if (input.scorer !== undefined) changes.scorer = JSON.stringify(input.scorer);
      if (input.sampleRate !== undefined) changes.sample_rate = input.sampleRate;
      if (input.filter !== undefined) changes.filter = JSON.stringify(input.filter);
      if (input.enabled !== undefined) changes.enabled = input.enabled ? 1 : 0;
      // a rule switched back on scores from now on, not the backlog of its time off
      if (input.enabled === true && Number(row.enabled) === 0) Object.assign(changes, { cursor_at: iso(now()), cursor_key: '' });
      if (input.drift !== undefined) changes.drift = JSON.stringify(input.drift);
      if (input.webhookUrl !== undefined) {
        changes.webhook_url = input.webhookUrl;
        changes.webhook_secret = input.webhookUrl === null ? null : (row.webhook_secret ?? `whsec_${randomBytes(24).toString('base64url')}`);
      }
      const updated = { ...row, ...changes };
      await db.transaction().execute(async (trx) => {
        await createOnlineEvalsStore(trx).updateRule(auth.project.id, id, changes);
        await journalRule(auth, 'online_eval.rule_updated', toRule(updated, false), trx);
      });
      return toRule(updated, true);
    },

    /** Deletes a rule; its scores and alerts stay readable. */
    async deleteRule(auth: AuthContext, id: string): Promise<void> {
      await findRule(auth.project.id, id);
      await db.transaction().execute(async (trx) => {
        await createOnlineEvalsStore(trx).updateRule(auth.project.id, id, { deleted_at: iso(now()), enabled: 0 });
        await journalRule(auth, 'online_eval.rule_deleted', { ruleId: id }, trx);
      });
    },

    async spanScores(projectId: string, traceId: string, spanId: string): Promise<SpanScore[]> {
      return (await createOnlineEvalsStore(db).scoresOfSpan(projectId, traceId, spanId)).map(toScore);
    },

    async alerts(projectId: string, filter: { ruleId?: string; unacknowledged?: boolean }, page: { cursor?: string; limit: number }): Promise<DriftAlertList> {
      const before = page.cursor === undefined ? null : String(decodeCursor(page.cursor, 1)[0]);
      const rows = await createOnlineEvalsStore(db).alerts(projectId, filter, before, page.limit + 1);
      const shown = rows.slice(0, page.limit);
      return { alerts: shown.map(toAlert), nextCursor: rows.length > page.limit ? encodeCursor([shown.at(-1)!.id]) : null };
    },

    async acknowledge(auth: AuthContext, id: string): Promise<DriftAlert> {
      const store = createOnlineEvalsStore(db);
      if (!(await store.getAlert(auth.project.id, id))) throw new ApiError('not_found', `No drift alert ${id} in this project.`);
      await store.acknowledge(auth.project.id, id, iso(now()));
      return toAlert((await store.getAlert(auth.project.id, id))!);
    },

    /**
     * One pass of the worker: scores what every due rule has not seen yet, then checks drift. One pass
     * at a time per process; rules are leased, so processes share the work without scoring twice.
     */
    tick(): Promise<{ scored: number; alerts: number }> {
      running ??= tick().finally(() => (running = null));
      return running;
    },

    /** Runs `tick` every `intervalMs` until the returned stop is called (which waits for a pass under way). */
    start(intervalMs: number): () => Promise<void> {
      const timer = setInterval(() => {
        void this.tick().catch((err: unknown) => logger?.error({ err }, 'online evals pass failed'));
      }, intervalMs);
      timer.unref();
      return async () => {
        clearInterval(timer);
        await running?.catch(() => undefined);
      };
    },
  };
}

export type OnlineEvals = ReturnType<typeof createOnlineEvals>;
