/**
 * @hangar/sdk/evals — run evals against Hangar: `Eval()` defines one (cases, task, scorers, trials),
 * `hangar eval` runs `*.eval.ts` files with a progress bar, resume and a CI gate. Node-only (it sets
 * up tracing: every trial is a trace), hence its own entry point. The scorers of `@hangar/evals` are
 * re-exported here, so an eval file needs one import.
 */
export { Eval, runEvalHere, setEvalHost } from './eval.js';
export type { EvalHost } from './eval.js';
export { TRIAL_ATTRIBUTES, caseIdOf } from './runner.js';
export type {
  DatasetRef,
  EvalCase,
  EvalData,
  EvalOptions,
  EvalProgress,
  EvalSummary,
  RunEvalOptions,
  TrialContext,
} from './types.js';
export * from '@hangar/evals';
