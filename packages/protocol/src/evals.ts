import { z } from 'zod';
import { JsonValue, Timestamp } from './schemas.js';

// Evals: datasets (immutable versions of cases), experiments (trials of a task over a dataset
// version, each scored), comparisons of two experiments with paired statistics, and online evals
// (scorers attached to production spans) with drift alerts.

const Metadata = z.record(z.string(), JsonValue);
const Name = z.string().trim().min(1).max(200);

// ---------------------------------------------------------------------------------------------
// Datasets

/** A case id: yours (stable across versions, so comparisons pair cases) or generated. */
export const CaseId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

/** A case as you write it. Without `id` a stable id is derived from the input's canonical JSON. */
export const CaseInput = z
  .object({
    id: CaseId.optional(),
    input: JsonValue,
    expected: JsonValue.optional(),
    metadata: Metadata.optional(),
    tags: z.array(z.string().min(1).max(100)).max(50).optional(),
  })
  .strict();
export type CaseInput = z.input<typeof CaseInput>;

export const DatasetCase = z.object({
  id: CaseId,
  input: JsonValue,
  expected: JsonValue.nullable(),
  metadata: Metadata,
  tags: z.array(z.string()),
  /** Where the case came from: `span:<traceId>/<spanId>` when added from production. */
  source: z.string().nullable(),
});
export type DatasetCase = z.infer<typeof DatasetCase>;

export const Dataset = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  latestVersion: z.number().int().describe('0 until the first cases are added'),
  caseCount: z.number().int().describe('cases in the latest version'),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Dataset = z.infer<typeof Dataset>;

export const CreateDatasetRequest = z
  .object({ name: Name, description: z.string().max(2000).optional(), cases: z.array(CaseInput).max(10_000).optional() })
  .strict();
export type CreateDatasetRequest = z.input<typeof CreateDatasetRequest>;

export const DatasetVersion = z.object({
  datasetId: z.string(),
  version: z.number().int(),
  caseCount: z.number().int(),
  note: z.string().nullable(),
  createdAt: Timestamp,
});
export type DatasetVersion = z.infer<typeof DatasetVersion>;

/**
 * A change to a dataset: upsert cases (same id replaces) and remove ids. Every change makes a new
 * immutable version; the old versions stay readable.
 */
export const ChangeDatasetRequest = z
  .object({
    upsert: z.array(CaseInput).max(10_000).optional(),
    remove: z.array(CaseId).max(10_000).optional(),
    note: z.string().max(500).optional(),
  })
  .strict();
export type ChangeDatasetRequest = z.input<typeof ChangeDatasetRequest>;

/** Add production spans (their input messages as `input`, output as `expected`) as cases. */
export const AddSpansToDatasetRequest = z
  .object({
    spans: z.array(z.object({ traceId: z.string(), spanId: z.string() })).min(1).max(1000),
    tags: z.array(z.string().min(1).max(100)).max(50).optional(),
    note: z.string().max(500).optional(),
  })
  .strict();
export type AddSpansToDatasetRequest = z.input<typeof AddSpansToDatasetRequest>;

export const CasePage = z.object({ cases: z.array(DatasetCase), version: z.number().int(), nextCursor: z.string().nullable() });
export type CasePage = z.infer<typeof CasePage>;

export const DatasetList = z.object({ datasets: z.array(Dataset) });
export type DatasetList = z.infer<typeof DatasetList>;

export const DatasetVersionList = z.object({ versions: z.array(DatasetVersion) });
export type DatasetVersionList = z.infer<typeof DatasetVersionList>;

/** What a change, an import or an add-spans made: the new version (the dataset as it is now). */
export const DatasetChange = z.object({ dataset: Dataset, version: DatasetVersion });
export type DatasetChange = z.infer<typeof DatasetChange>;

// ---------------------------------------------------------------------------------------------
// Experiments

export const EXPERIMENT_STATUSES = ['running', 'completed', 'failed', 'stopped'] as const;
export const ExperimentStatus = z.enum(EXPERIMENT_STATUSES);
export type ExperimentStatus = z.infer<typeof ExperimentStatus>;

/** One scorer's verdict on one trial. A scorer that threw has `error` and a null `value`, never 0. */
export const Score = z.object({
  name: z.string().min(1).max(200),
  value: z.number().finite().nullable().describe('usually 0..1; null when the scorer errored or abstained'),
  pass: z.boolean().nullable().optional().describe('for pass/fail scorers; defaults to value >= threshold'),
  error: z.string().max(4000).nullable().optional(),
  metadata: Metadata.optional().describe('e.g. a judge rationale'),
});
export type Score = z.input<typeof Score>;

/** The result of one trial of one case. `(caseId, trial)` is unique per experiment: re-posting replaces nothing. */
export const TrialResult = z.object({
  caseId: CaseId,
  trial: z.number().int().min(0),
  input: JsonValue.optional(),
  output: JsonValue.optional(),
  expected: JsonValue.optional(),
  error: z.string().max(8000).nullable().optional().describe('the task threw or timed out'),
  traceId: z.string().nullable().optional().describe("the trial's trace, 32 hex characters"),
  durationMs: z.number().min(0),
  costMicros: z.number().int().min(0).optional(),
  scores: z.array(Score).max(100),
});
export type TrialResult = z.input<typeof TrialResult>;

export const StoredTrialResult = TrialResult.extend({
  experimentId: z.string(),
  costMicros: z.number().int(),
  createdAt: Timestamp,
});
export type StoredTrialResult = z.infer<typeof StoredTrialResult>;

/** Summary statistics of one score across an experiment (CI clustered by case when trials > 1). */
export const ScoreSummary = z.object({
  name: z.string(),
  n: z.number().int().describe('trials with a value'),
  errors: z.number().int().describe('trials whose scorer errored'),
  mean: z.number().nullable(),
  standardError: z.number().nullable(),
  ciLow: z.number().nullable(),
  ciHigh: z.number().nullable(),
  passRate: z.number().nullable(),
  /** Unbiased pass@k and pass^k (Chen et al.) for k = 1..trials, when the score is pass/fail. */
  passAtK: z.record(z.string(), z.number()).optional(),
  passHatK: z.record(z.string(), z.number()).optional(),
});
export type ScoreSummary = z.infer<typeof ScoreSummary>;

export const Experiment = z.object({
  id: z.string(),
  name: z.string().describe('experiments with the same name form a series; `name@latest` picks the newest completed'),
  datasetId: z.string().nullable(),
  datasetVersion: z.number().int().nullable(),
  status: ExperimentStatus,
  trials: z.number().int().describe('trials per case'),
  metadata: Metadata,
  agentId: z.string().nullable().describe('the agent whose credential ran the trials'),
  budgetMicros: z.number().int().nullable(),
  casesTotal: z.number().int(),
  trialsDone: z.number().int(),
  costMicros: z.number().int(),
  scores: z.array(ScoreSummary),
  createdAt: Timestamp,
  finishedAt: Timestamp.nullable(),
});
export type Experiment = z.infer<typeof Experiment>;

export const CreateExperimentRequest = z
  .object({
    name: Name,
    datasetId: z.string().optional(),
    datasetVersion: z.number().int().min(1).optional().describe('defaults to the latest version'),
    casesTotal: z.number().int().min(0).optional().describe('for inline data without a dataset'),
    trials: z.number().int().min(1).max(100).default(1),
    metadata: Metadata.optional(),
    budgetMicros: z.number().int().min(1).optional().describe('a hard budget for the whole experiment'),
  })
  .strict();
export type CreateExperimentRequest = z.input<typeof CreateExperimentRequest>;

export const PostResultsRequest = z.object({ results: z.array(TrialResult).min(1).max(1000) }).strict();
export type PostResultsRequest = z.input<typeof PostResultsRequest>;

/** `stored`: new results; `unchanged`: the same body posted again for a (caseId, trial) (a resumed run). */
export const PostResultsResponse = z.object({ stored: z.number().int(), unchanged: z.number().int(), trialsDone: z.number().int() });
export type PostResultsResponse = z.infer<typeof PostResultsResponse>;

/**
 * A created experiment. With a budget, `credential` is the agent credential the runner sends its gateway
 * calls with (shown once): its spend cap and a hard credential budget are the experiment's budget.
 */
export const CreatedExperiment = Experiment.extend({
  credential: z.object({ token: z.string(), id: z.string(), expiresAt: Timestamp }).nullable(),
});
export type CreatedExperiment = z.infer<typeof CreatedExperiment>;

export const ExperimentList = z.object({ experiments: z.array(Experiment), nextCursor: z.string().nullable() });
export type ExperimentList = z.infer<typeof ExperimentList>;

export const FinishExperimentRequest = z.object({ status: ExperimentStatus.exclude(['running']).default('completed') }).strict();
export type FinishExperimentRequest = z.input<typeof FinishExperimentRequest>;

export const ResultPage = z.object({ results: z.array(StoredTrialResult), nextCursor: z.string().nullable() });
export type ResultPage = z.infer<typeof ResultPage>;

// ---------------------------------------------------------------------------------------------
// Comparison of two experiments on the same dataset version

export const VERDICTS = ['improved', 'regressed', 'no_significant_change'] as const;
export const Verdict = z.enum(VERDICTS);
export type Verdict = z.infer<typeof Verdict>;

export const MetricComparison = z.object({
  name: z.string(),
  pairs: z.number().int().describe('cases scored in both experiments'),
  baselineMean: z.number().nullable(),
  candidateMean: z.number().nullable(),
  meanDelta: z.number().nullable().describe('candidate − baseline, mean over cases of the per-case mean delta'),
  ciLow: z.number().nullable().describe('paired bootstrap CI on the mean delta'),
  ciHigh: z.number().nullable(),
  test: z.enum(['wilcoxon', 'mcnemar', 'sign']),
  pValue: z.number().nullable(),
  adjustedPValue: z.number().nullable().describe('Holm-corrected across the metrics compared'),
  verdict: Verdict,
  /** Cases needed to detect `delta` with 80 % power at this alpha, given the observed spread. */
  power: z.object({ delta: z.number(), casesNeeded: z.number().int().nullable() }).nullable(),
});
export type MetricComparison = z.infer<typeof MetricComparison>;

export const Comparison = z.object({
  baselineId: z.string(),
  candidateId: z.string(),
  datasetId: z.string().nullable(),
  datasetVersion: z.number().int().nullable(),
  alpha: z.number(),
  verdict: Verdict.describe('regressed if any metric regressed; else improved if any improved'),
  metrics: z.array(MetricComparison),
  cases: z.array(
    z.object({
      caseId: z.string(),
      baseline: z.record(z.string(), z.number().nullable()),
      candidate: z.record(z.string(), z.number().nullable()),
      delta: z.record(z.string(), z.number().nullable()),
    }),
  ),
});
export type Comparison = z.infer<typeof Comparison>;

// ---------------------------------------------------------------------------------------------
// Online evals and drift

/** A scorer that can run on the server over a production span (no expected output needed). */
export const OnlineScorer = z.discriminatedUnion('type', [
  z.object({ type: z.literal('regex'), pattern: z.string().min(1).max(1000), flags: z.string().max(10).optional() }),
  z.object({ type: z.literal('includes'), text: z.string().min(1).max(1000), caseSensitive: z.boolean().optional() }),
  z.object({ type: z.literal('json_valid'), schema: JsonValue.optional() }),
  z.object({ type: z.literal('max_latency'), ms: z.number().positive() }),
  z.object({ type: z.literal('max_cost'), micros: z.number().int().positive() }),
  z.object({
    type: z.literal('llm_judge'),
    model: z.string().min(1),
    rubric: z.string().min(1).max(20_000),
    passThreshold: z.number().min(0).max(1).optional(),
  }),
]);
export type OnlineScorer = z.infer<typeof OnlineScorer>;

export const OnlineEvalRule = z.object({
  id: z.string(),
  name: z.string(),
  scorer: OnlineScorer,
  sampleRate: z.number().min(0).max(1),
  filter: z.object({
    agent: z.string().optional(),
    model: z.string().optional(),
    kind: z.string().optional(),
    tag: z.string().optional().describe('matches the span attribute hangar.tag or tags containing it'),
  }),
  enabled: z.boolean(),
  /** Drift: compare the last `windowHours` with the `referenceHours` before it. */
  drift: z.object({ windowHours: z.number().positive(), referenceHours: z.number().positive(), alpha: z.number().gt(0).lt(1) }),
  webhookUrl: z.string().url().nullable(),
  createdAt: Timestamp,
});
export type OnlineEvalRule = z.infer<typeof OnlineEvalRule>;

export const CreateOnlineEvalRuleRequest = z
  .object({
    name: Name,
    scorer: OnlineScorer,
    sampleRate: z.number().min(0).max(1).default(1),
    filter: OnlineEvalRule.shape.filter.default({}),
    enabled: z.boolean().default(true),
    drift: OnlineEvalRule.shape.drift.default({ windowHours: 24, referenceHours: 168, alpha: 0.01 }),
    webhookUrl: z.string().url().nullable().optional(),
  })
  .strict();
export type CreateOnlineEvalRuleRequest = z.input<typeof CreateOnlineEvalRuleRequest>;

/** A change to a rule: the fields given replace the rule's. */
export const UpdateOnlineEvalRuleRequest = z
  .object({
    name: Name.optional(),
    scorer: OnlineScorer.optional(),
    sampleRate: z.number().min(0).max(1).optional(),
    filter: OnlineEvalRule.shape.filter.optional(),
    enabled: z.boolean().optional(),
    drift: OnlineEvalRule.shape.drift.optional(),
    webhookUrl: z.string().url().nullable().optional(),
  })
  .strict();
export type UpdateOnlineEvalRuleRequest = z.input<typeof UpdateOnlineEvalRuleRequest>;

/** A rule as created or listed by an admin: with the secret its drift webhooks are signed with. */
export const OnlineEvalRuleWithSecret = OnlineEvalRule.extend({
  webhookSecret: z.string().nullable().describe('verify the hangar-signature header with it; shown to admins'),
});
export type OnlineEvalRuleWithSecret = z.infer<typeof OnlineEvalRuleWithSecret>;

export const OnlineEvalRuleList = z.object({ rules: z.array(OnlineEvalRuleWithSecret) });
export type OnlineEvalRuleList = z.infer<typeof OnlineEvalRuleList>;

export const SpanScore = z.object({
  ruleId: z.string(),
  traceId: z.string(),
  spanId: z.string(),
  name: z.string(),
  value: z.number().nullable(),
  pass: z.boolean().nullable(),
  error: z.string().nullable(),
  createdAt: Timestamp,
});
export type SpanScore = z.infer<typeof SpanScore>;

export const SpanScoreList = z.object({ scores: z.array(SpanScore) });
export type SpanScoreList = z.infer<typeof SpanScoreList>;

export const DriftAlert = z.object({
  id: z.string(),
  ruleId: z.string(),
  metric: z.string(),
  referenceMean: z.number(),
  recentMean: z.number(),
  referenceN: z.number().int(),
  recentN: z.number().int(),
  test: z.enum(['mann_whitney', 'two_proportion_z']),
  pValue: z.number(),
  windowStart: Timestamp,
  windowEnd: Timestamp,
  createdAt: Timestamp,
  acknowledgedAt: Timestamp.nullable(),
});
export type DriftAlert = z.infer<typeof DriftAlert>;

export const DriftAlertList = z.object({ alerts: z.array(DriftAlert), nextCursor: z.string().nullable() });
export type DriftAlertList = z.infer<typeof DriftAlertList>;
