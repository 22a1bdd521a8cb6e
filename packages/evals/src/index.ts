/**
 * @hangar/evals — scorers and statistics for evals, shared by the SDK's runner (`Eval()`,
 * `hangar eval`) and the server (comparisons, online evals, drift). Pure TypeScript, no Node-only
 * imports.
 */
export type { TrialSpan, ScorerContext, ScoreOutcome, Scorer, JudgeCall, EmbedCall } from './types.js';

// Statistics
export { mean, variance, standardDeviation, standardError } from './stats/descriptive.js';
export { normalCdf, normalQuantile } from './stats/distributions.js';
export { seededRandom, DEFAULT_SEED } from './stats/random.js';
export {
  bootstrapCI,
  clusteredMeanCI,
  pairedBootstrapCI,
  type BootstrapOptions,
  type ConfidenceInterval,
  type ClusteredMean,
} from './stats/bootstrap.js';
export {
  wilcoxonSignedRank,
  signTest,
  mcnemar,
  mannWhitneyU,
  twoProportionZ,
  holm,
  type Alternative,
  type WilcoxonResult,
  type MannWhitneyResult,
} from './stats/hypothesis-tests.js';
export { passAtK, passHatK } from './stats/pass-at-k.js';
export { casesNeeded, type CasesNeededOptions } from './stats/power.js';
export { cohensKappa, krippendorffAlpha } from './stats/agreement.js';

// Experiments: summaries, paired comparisons, drift
export {
  summarizeScores,
  compareExperiments,
  detectDrift,
  type ScoredTrial,
  type CompareOptions,
  type ComparisonResult,
  type DriftOptions,
  type DriftResult,
} from './experiments.js';

// Scorers
export { scorer, runScorer, type ScoreRecord } from './scorers/run-scorer.js';
export {
  exact,
  includes,
  regex,
  jsonValid,
  numeric,
  levenshtein,
  levenshteinDistance,
  type NamedOptions,
} from './scorers/text.js';
export {
  embeddingSimilarity,
  cosineSimilarity,
  llmJudge,
  judgeAgreement,
  type LlmJudgeOptions,
  type JudgeAgreement,
} from './scorers/semantic.js';
export {
  toolUsed,
  toolArgsMatch,
  toolOrder,
  stepCount,
  costCeiling,
  latencyCeiling,
  type ToolOrderMode,
} from './scorers/trajectory.js';
