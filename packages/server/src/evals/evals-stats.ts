import { compareExperiments, summarizeScores, type ComparisonResult, type ScoredTrial } from '@hangar/evals';
import type { ScoreSummary } from '@hangar/protocol';
import type { ScoreRow } from './experiments-store.js';

/** Score rows of an experiment (one per trial and score name) as the trials @hangar/evals reads. */
export function toScoredTrials(rows: readonly ScoreRow[]): ScoredTrial[] {
  const trials = new Map<string, { caseId: string; trial: number; scores: Array<{ name: string; value: number | null; pass: boolean | null; error: string | null }> }>();
  for (const r of rows) {
    const key = `${r.case_id}\u0000${Number(r.trial)}`;
    let t = trials.get(key);
    if (!t) trials.set(key, (t = { caseId: r.case_id, trial: Number(r.trial), scores: [] }));
    t.scores.push({
      name: r.name,
      value: r.value === null ? null : Number(r.value),
      pass: r.pass === null ? null : Number(r.pass) === 1,
      error: Number(r.errored) === 1 ? 'scorer error' : null,
    });
  }
  return [...trials.values()];
}

/** Summaries of every score of an experiment: CIs clustered by case, pass@k when scores are pass/fail. */
export function summarizeScoreRows(rows: readonly ScoreRow[]): ScoreSummary[] {
  return summarizeScores(toScoredTrials(rows));
}

/** Candidate against baseline, case by case, per metric. */
export function compareScores(baseline: readonly ScoreRow[], candidate: readonly ScoreRow[], alpha: number): ComparisonResult {
  return compareExperiments(toScoredTrials(baseline), toScoredTrials(candidate), { alpha });
}
