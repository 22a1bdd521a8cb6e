import type { Experiment, TraceSpan, TrialResult } from '@hangar/protocol';
import type { Scorer } from '@hangar/evals';

/** A case of an eval: an input, what is expected (if anything), and metadata the scorers see. */
export interface EvalCase<Input = unknown, Expected = unknown> {
  /** Stable across runs so comparisons pair cases; derived from the input's canonical JSON when left out. */
  id?: string;
  input: Input;
  expected?: Expected;
  metadata?: Record<string, unknown>;
  tags?: string[];
}

/** A dataset stored in Hangar, by name or id, at a version (the latest by default). */
export interface DatasetRef {
  dataset: string;
  version?: number;
}

/** Where the cases come from: an array, any (async) iterable, or a dataset in Hangar. */
export type EvalData<Input, Expected> =
  | readonly EvalCase<Input, Expected>[]
  | Iterable<EvalCase<Input, Expected>>
  | AsyncIterable<EvalCase<Input, Expected>>
  | DatasetRef
  | string;

/** What a task is given besides the input, for one trial. */
export interface TrialContext<Expected = unknown> {
  caseId: string;
  /** 0-based trial number of this case. */
  trial: number;
  expected: Expected | undefined;
  metadata: Record<string, unknown>;
  /** Aborted when the trial times out or the run is stopped: pass it on to model and tool calls. */
  signal: AbortSignal;
  experimentId: string;
  /**
   * Hangar's OpenAI-compatible gateway for this trial: `baseURL` and `apiKey` (the experiment's agent
   * credential when it has a budget, else your key), and a `fetch` that sends the trial's trace
   * context (W3C `traceparent`), so the gateway's spans join the trial's trace.
   * @example new OpenAI({ baseURL: ctx.gateway.baseURL, apiKey: ctx.gateway.apiKey, fetch: ctx.gateway.fetch })
   */
  gateway: { baseURL: string; apiKey: string; fetch: typeof fetch };
}

/** An eval: cases, the task under test, and how to score it. */
export interface EvalOptions<Input = unknown, Output = unknown, Expected = unknown> {
  data: EvalData<Input, Expected>;
  task: (input: Input, ctx: TrialContext<Expected>) => Output | Promise<Output>;
  // NoInfer: the types come from data and task; generic scorers (of unknown) fit any eval
  scorers: readonly Scorer<NoInfer<Input>, NoInfer<Output>, NoInfer<Expected>>[];
  /** Trials per case (1 by default): repeat a stochastic agent to measure it, not one sample. */
  trials?: number;
  /** Trials running at once (10 by default). */
  maxConcurrency?: number;
  /** Recorded on the experiment, e.g. `{ model: 'gpt-4o', promptVersion: 3 }`. */
  metadata?: Record<string, unknown>;
  /** Per-trial time limit in ms (none by default): the signal aborts and the trial records an error. */
  timeoutMs?: number;
  /** A hard budget for the experiment's model calls in micro-USD: the gateway refuses past it and the run stops. */
  budgetMicros?: number;
  /** The experiment's name; the eval's name by default. Experiments of one name form a series (`name@latest`). */
  experimentName?: string;
}

/** Progress of a run, as the CLI's progress bar shows it. */
export interface EvalProgress {
  name: string;
  experimentId: string;
  done: number;
  /** Trials to run in all, or null when the data is an iterable of unknown length. */
  total: number | null;
  /** Trials already done before this run (resumed). */
  skipped: number;
  errors: number;
  passed: number;
  /** Trials with a pass verdict (passed + failed). */
  judged: number;
  costMicros: number;
  elapsedMs: number;
}

/** How to run: where Hangar is, and what the CLI adds. */
export interface RunEvalOptions {
  baseUrl: string;
  apiKey: string;
  /** Continue this experiment, skipping the (case, trial) pairs it already has. */
  resume?: string;
  /** Trials posted per request (500 by default); results are held in memory only until posted. */
  batchSize?: number;
  onProgress?: (progress: EvalProgress) => void;
  /** Stops dispatching trials: the run finishes the ones in flight and posts them; the experiment stays running, to resume. */
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/** What a run ends with. */
export interface EvalSummary {
  name: string;
  experiment: Experiment;
  /** Why the run ended early, if it did. */
  stopped: 'budget' | 'interrupted' | null;
  trialsRun: number;
  trialsSkipped: number;
}

/** The part of Hangar's API a run needs (the SDK client in production). */
export interface EvalBackend {
  createExperiment(request: {
    name: string;
    datasetId?: string;
    datasetVersion?: number;
    casesTotal?: number;
    trials: number;
    metadata?: Record<string, unknown>;
    budgetMicros?: number;
  }): Promise<{ experiment: Experiment; credential: string | null }>;
  getExperiment(id: string): Promise<Experiment>;
  /** The (caseId, trial) pairs already posted, page by page. */
  postedTrials(id: string): AsyncIterable<{ caseId: string; trial: number }>;
  postResults(id: string, results: TrialResult[]): Promise<void>;
  finish(id: string, status: 'completed' | 'failed' | 'stopped'): Promise<Experiment>;
  /** A dataset's cases at a version, streamed page by page. */
  dataset(ref: DatasetRef): Promise<{ id: string; version: number; caseCount: number; cases: AsyncIterable<EvalCase> }>;
  trace(traceId: string): Promise<readonly TraceSpan[]>;
}
