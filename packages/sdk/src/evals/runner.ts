import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { SpanStatusCode, isSpanContextValid, trace, type Tracer } from '@opentelemetry/api';
import type { TrialResult } from '@hangar/protocol';
import { runScorer, type ScorerContext, type TrialSpan } from '@hangar/evals';
import { createTrialSpanCollector, mergeTrialSpans } from './trial-spans.js';
import type {
  DatasetRef,
  EvalBackend,
  EvalCase,
  EvalOptions,
  EvalProgress,
  EvalSummary,
  RunEvalOptions,
  TrialContext,
} from './types.js';

/** Attributes naming the experiment, case and trial on every trial's root span. */
export const TRIAL_ATTRIBUTES = {
  experimentId: 'hangar.eval.experiment_id',
  experimentName: 'hangar.eval.experiment_name',
  caseId: 'hangar.eval.case_id',
  trial: 'hangar.eval.trial',
} as const;

const DEFAULT_CONCURRENCY = 10;
const DEFAULT_BATCH = 500;
const FLUSH_EVERY_MS = 2000;

/** JSON with keys sorted at every level, so equal inputs have one text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** A case's id: its own, or one derived from its input, stable across runs. */
export function caseIdOf(c: EvalCase): string {
  return c.id ?? 'c_' + createHash('sha256').update(canonicalJson(c.input)).digest('hex').slice(0, 24);
}

function isDatasetRef(data: unknown): data is DatasetRef | string {
  return typeof data === 'string' || (typeof data === 'object' && data !== null && 'dataset' in data && !Array.isArray(data));
}

function toJson(value: unknown): unknown {
  if (value === undefined || value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch {
    return String(value);
  }
}

/** Whether a trial passed: no error, and every score that has a verdict passed (values ≥ 0.5 count as passes). */
export function trialPassed(result: Pick<TrialResult, 'error' | 'scores'>): boolean | null {
  if (result.error) return false;
  let judged = false;
  for (const s of result.scores) {
    if (s.error) return false;
    const pass = s.pass ?? (s.value === null ? null : s.value >= 0.5);
    if (pass === null) continue;
    judged = true;
    if (!pass) return false;
  }
  return judged ? true : null;
}

const ERROR_MAX = 8000;

function message(error: unknown): string {
  const text = error instanceof Error ? `${error.name === 'Error' ? '' : error.name + ': '}${error.message}` : String(error);
  return text.slice(0, ERROR_MAX);
}

class TrialTimeout extends Error {
  override readonly name = 'TrialTimeout';
}

class BudgetExhausted extends Error {
  override readonly name = 'BudgetExhausted';
}

/**
 * Runs an eval against Hangar: creates (or resumes) the experiment, runs every trial of every case
 * under its own trace, scores it, posts results in batches and finishes the experiment. Memory holds
 * the trials in flight and one batch, whatever the number of cases.
 */
export async function runEval<I, O, E>(
  name: string,
  options: EvalOptions<I, O, E>,
  run: RunEvalOptions,
  backend: EvalBackend,
  tracer: Tracer = trace.getTracer('@hangar/sdk/evals'),
): Promise<EvalSummary> {
  const trials = options.trials ?? 1;
  const concurrency = Math.max(1, options.maxConcurrency ?? DEFAULT_CONCURRENCY);
  const batchSize = Math.max(1, Math.min(1000, run.batchSize ?? DEFAULT_BATCH));
  if (!Number.isInteger(trials) || trials < 1 || trials > 100) throw new Error(`Eval ${name}: trials must be a whole number 1..100`);

  // Cases, and how many there are when that is known up front.
  let cases: AsyncIterable<EvalCase<I, E>> | Iterable<EvalCase<I, E>>;
  let dataset: { id: string; version: number } | null = null;
  let casesTotal: number | null = null;
  if (isDatasetRef(options.data)) {
    const ref = typeof options.data === 'string' ? { dataset: options.data } : options.data;
    const found = await backend.dataset(ref);
    dataset = { id: found.id, version: found.version };
    casesTotal = found.caseCount;
    cases = found.cases as AsyncIterable<EvalCase<I, E>>;
  } else {
    cases = options.data as Iterable<EvalCase<I, E>> | AsyncIterable<EvalCase<I, E>>;
    if (Array.isArray(cases)) casesTotal = cases.length;
  }

  // The experiment: a new one, or the one to resume with what it already has.
  let experimentId: string;
  let credential: string | null = null;
  const done = new Set<string>();
  if (run.resume) {
    const existing = await backend.getExperiment(run.resume);
    if (existing.status !== 'running') {
      throw new Error(`Experiment ${existing.id} is ${existing.status}: only a running (interrupted) experiment can be resumed.`);
    }
    if (existing.trials !== trials) {
      throw new Error(`Experiment ${existing.id} ran ${existing.trials} trials per case; this eval asks for ${trials}. Resume with the same trials.`);
    }
    if (dataset && (existing.datasetId !== dataset.id || existing.datasetVersion !== dataset.version)) {
      throw new Error(
        `Experiment ${existing.id} ran on dataset ${existing.datasetId ?? '(inline)'} version ${existing.datasetVersion ?? '-'}; ` +
          `this eval reads ${dataset.id} version ${dataset.version}. Pin the version (data: { dataset, version }) to resume it.`,
      );
    }
    experimentId = existing.id;
    for await (const p of backend.postedTrials(experimentId)) done.add(`${p.caseId}\u0000${p.trial}`);
  } else {
    const created = await backend.createExperiment({
      name: options.experimentName ?? name,
      ...(dataset ? { datasetId: dataset.id, datasetVersion: dataset.version } : {}),
      ...(casesTotal !== null && !dataset ? { casesTotal } : {}),
      trials,
      ...(options.metadata ? { metadata: options.metadata } : {}),
      ...(options.budgetMicros !== undefined ? { budgetMicros: options.budgetMicros } : {}),
    });
    experimentId = created.experiment.id;
    credential = created.credential;
  }

  const progress: EvalProgress = {
    name,
    experimentId,
    done: 0,
    total: casesTotal === null ? null : casesTotal * trials - done.size,
    skipped: done.size,
    errors: 0,
    passed: 0,
    judged: 0,
    costMicros: 0,
    elapsedMs: 0,
  };
  const started = performance.now();
  const report = () => {
    progress.elapsedMs = performance.now() - started;
    run.onProgress?.({ ...progress });
  };

  const usesTrace = options.scorers.some((s) => s.usesTrace);
  const gatewayBase = run.baseUrl.replace(/\/+$/, '') + '/v1';
  const gatewayKey = credential ?? run.apiKey;
  const collector = createTrialSpanCollector({
    exclude: (span) => span.attributes[TRIAL_ATTRIBUTES.experimentId] !== undefined,
  });

  // `stop` ends dispatching (trials in flight finish); `cancel` also aborts the trials in flight.
  let stopped: EvalSummary['stopped'] = null;
  const stop = new AbortController();
  const cancel = new AbortController();
  const onAbort = () => {
    stopped ??= 'interrupted';
    stop.abort();
  };
  if (run.signal?.aborted) onAbort();
  run.signal?.addEventListener('abort', onAbort, { once: true });

  // Results wait here until posted; a full batch is posted before more trials start.
  let pending: TrialResult[] = [];
  let posting: Promise<void> = Promise.resolve();
  let postError: unknown = null;
  let lastPost = performance.now();
  const post = (): Promise<void> => {
    if (pending.length === 0) return posting;
    const batch = pending;
    pending = [];
    lastPost = performance.now();
    posting = posting.then(() =>
      backend.postResults(experimentId, batch).catch((error: unknown) => {
        postError ??= error;
        stop.abort();
        cancel.abort();
      }),
    );
    return posting;
  };

  async function runTrial(c: EvalCase<I, E>, caseId: string, trial: number): Promise<void> {
    // one controller per trial, aborted by its timeout or by the run's cancel (AbortSignal.any is
    // slow on Node 20 and keeps its signals until collected)
    const trialAbort = new AbortController();
    const onCancel = () => trialAbort.abort(cancel.signal.reason);
    cancel.signal.addEventListener('abort', onCancel, { once: true });
    if (cancel.signal.aborted) onCancel();
    const signal = trialAbort.signal;
    let budgetHit = false;
    let gatewayCalls = 0;
    const metadata = c.metadata ?? {};

    const result = await tracer.startActiveSpan(
      `eval ${name}`,
      {
        root: true,
        attributes: {
          [TRIAL_ATTRIBUTES.experimentId]: experimentId,
          [TRIAL_ATTRIBUTES.experimentName]: options.experimentName ?? name,
          [TRIAL_ATTRIBUTES.caseId]: caseId,
          [TRIAL_ATTRIBUTES.trial]: trial,
        },
      },
      async (span) => {
        // without a recording tracer provider there is no trace to link or collect
        const traceId = isSpanContextValid(span.spanContext()) ? span.spanContext().traceId : null;
        if (traceId) collector.begin(traceId);
        const gatewayFetch: typeof fetch = async (input, init) => {
          const active = trace.getActiveSpan()?.spanContext() ?? span.spanContext();
          const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
          if (isSpanContextValid(active)) headers.set('traceparent', `00-${active.traceId}-${active.spanId}-01`);
          gatewayCalls++;
          const response = await (run.fetch ?? fetch)(input, { ...init, headers, signal: init?.signal ?? signal });
          // the experiment's budget refuses: its hold (402 budget_exceeded) or its credential's spend cap (403)
          if (response.status === 402 || response.status === 403) {
            const body = (await response.clone().json().catch(() => null)) as { error?: { code?: string } } | null;
            if (body?.error?.code === 'budget_exceeded' || body?.error?.code === 'spend_cap_exceeded') budgetHit = true;
          }
          return response;
        };
        const ctx: TrialContext<E> = {
          caseId,
          trial,
          expected: c.expected,
          metadata,
          signal,
          experimentId,
          gateway: { baseURL: gatewayBase, apiKey: gatewayKey, fetch: gatewayFetch },
        };
        const t0 = performance.now();
        let output: O | undefined;
        let error: string | null = null;
        let timer: NodeJS.Timeout | undefined;
        try {
          const task = Promise.resolve().then(() => options.task(c.input, ctx));
          const limits: Promise<never>[] = [];
          if (options.timeoutMs !== undefined) {
            const ms = options.timeoutMs;
            limits.push(
              new Promise<never>((_, reject) => {
                timer = setTimeout(() => {
                  trialAbort.abort(new TrialTimeout(`timed out after ${ms} ms`));
                  reject(new TrialTimeout(`timed out after ${ms} ms`));
                }, ms);
              }),
            );
          }
          output = await Promise.race([task, ...limits]);
        } catch (e) {
          error = budgetHit ? `budget_exceeded: ${message(e)}` : message(e);
          span.recordException(e instanceof Error ? e : new Error(String(e)));
          span.setStatus({ code: SpanStatusCode.ERROR, message: error });
        } finally {
          clearTimeout(timer);
          cancel.signal.removeEventListener('abort', onCancel);
        }
        const durationMs = performance.now() - t0;
        span.end();
        const local = traceId ? collector.take(traceId) : new Map<string, TrialSpan>();
        if (budgetHit) {
          throw new BudgetExhausted(error ?? 'budget_exceeded');
        }

        let spans: TrialSpan[] = [...local.values()].sort((a, b) => a.startTime - b.startTime);
        let costMicros = 0;
        if (traceId && (gatewayCalls > 0 || usesTrace)) {
          // the gateway records its spans before it answers, so they are there once the task is done
          const server = await backend.trace(traceId).catch(() => []);
          spans = mergeTrialSpans(local, server);
          for (const s of server) if (s.source === 'gateway') costMicros += s.costMicros ?? 0;
        }
        const scorerCtx: ScorerContext<I, O, E> = {
          input: c.input,
          output: output as O,
          expected: c.expected,
          metadata,
          spans: [],
          durationMs,
          costMicros,
        };
        const scores =
          error === null
            ? await Promise.all(
                options.scorers.map(async (s) => runScorer(s, s.usesTrace ? { ...scorerCtx, spans } : scorerCtx)),
              )
            : [];
        const r: TrialResult = {
          caseId,
          trial,
          input: toJson(c.input),
          ...(output === undefined ? {} : { output: toJson(output) }),
          ...(c.expected === undefined ? {} : { expected: toJson(c.expected) }),
          error,
          traceId,
          durationMs,
          costMicros,
          scores,
        };
        return r;
      },
    ).catch((e: unknown) => {
      if (e instanceof BudgetExhausted) {
        stopped = 'budget';
        stop.abort();
        cancel.abort();
        return null;
      }
      throw e;
    });
    // a trial cut short by the run's end is not a result: a resumed run does it again
    if (!result || (result.error && cancel.signal.aborted)) return;

    progress.done++;
    progress.costMicros += result.costMicros ?? 0;
    if (result.error) progress.errors++;
    const pass = trialPassed(result);
    if (pass !== null) {
      progress.judged++;
      if (pass) progress.passed++;
    }
    pending.push(result);
    if (pending.length >= batchSize || performance.now() - lastPost > FLUSH_EVERY_MS) await post();
  }

  // A pool of `concurrency` workers pulling (case, trial) pairs from one iterator, so the cases are
  // read lazily: a dataset of millions never sits in memory.
  async function* work(): AsyncGenerator<[EvalCase<I, E>, string, number]> {
    for await (const c of cases) {
      const caseId = caseIdOf(c as EvalCase);
      for (let t = 0; t < trials; t++) if (!done.has(`${caseId}\u0000${t}`)) yield [c, caseId, t];
    }
  }
  const queue = work();
  let pulling: Promise<unknown> = Promise.resolve();
  const next = () => {
    const got = pulling.then(() => queue.next());
    pulling = got;
    return got;
  };
  const ticker = setInterval(report, 250);
  ticker.unref();
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (!stop.signal.aborted) {
          const item = await next();
          if (item.done) return;
          await runTrial(...item.value);
        }
      }),
    );
    await post();
    await posting;
  } finally {
    clearInterval(ticker);
    collector.close();
    run.signal?.removeEventListener('abort', onAbort);
    report();
  }
  if (postError) {
    await backend.finish(experimentId, 'failed').catch(() => undefined);
    throw postError;
  }
  // An interrupted experiment stays running, so `--resume` can add the trials it lacks (a finished
  // one takes no new results); one stopped by its budget is finished, which revokes its credential.
  const experiment =
    stopped === 'interrupted' ? await backend.getExperiment(experimentId) : await backend.finish(experimentId, stopped ? 'stopped' : 'completed');
  return { name, experiment, stopped, trialsRun: progress.done, trialsSkipped: progress.skipped };
}
