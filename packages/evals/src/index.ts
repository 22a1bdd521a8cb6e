/**
 * @hangar/evals — scorers and statistics for evals, shared by the SDK's runner (`Eval()`,
 * `hangar eval`) and the server (comparisons, online evals, drift). Pure TypeScript, no Node-only
 * imports.
 */
export type { TrialSpan, ScorerContext, ScoreOutcome, Scorer, JudgeCall, EmbedCall } from './types.js';
