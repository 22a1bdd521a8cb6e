import type { Comparison, Experiment, MetricComparison } from '@hangar/protocol';

/** An absolute floor: the candidate's mean of `metric` must be at least `min`. */
export interface Floor {
  metric: string;
  min: number;
}

/** Parses `--floor exact=0.8`. */
export function parseFloor(text: string): Floor {
  const match = /^([^=]+)=(-?\d+(?:\.\d+)?)$/.exec(text.trim());
  if (!match) throw new Error(`--floor takes metric=value, e.g. exact=0.8 (got '${text}')`);
  return { metric: match[1]!.trim(), min: Number(match[2]) };
}

export interface FloorCheck extends Floor {
  mean: number | null;
  ok: boolean;
}

/** What one eval ended with, and the gate's decision on it. */
export interface EvalReport {
  name: string;
  experiment: Experiment;
  baseline: Experiment | null;
  comparison: Comparison | null;
  floors: FloorCheck[];
  /** Reasons the gate fails this eval; empty when it passes. */
  failures: string[];
  stopped: 'budget' | 'interrupted' | null;
}

export function checkFloors(experiment: Experiment, floors: readonly Floor[]): FloorCheck[] {
  return floors.map((f) => {
    const mean = experiment.scores.find((s) => s.name === f.metric)?.mean ?? null;
    return { ...f, mean, ok: mean !== null && mean >= f.min };
  });
}

/** Why the gate fails: a significant regression (when asked to fail on one), a floor not met, a run cut short. */
export function gateFailures(report: Omit<EvalReport, 'failures'>, failOnRegression: boolean): string[] {
  const out: string[] = [];
  if (failOnRegression && report.comparison?.verdict === 'regressed') {
    const worse = report.comparison.metrics.filter((m) => m.verdict === 'regressed').map((m) => m.name);
    out.push(`significant regression in ${worse.join(', ')}`);
  }
  for (const f of report.floors) {
    if (!f.ok) out.push(`${f.metric} ${f.mean === null ? 'has no value' : f.mean.toFixed(3)} is below the floor ${f.min}`);
  }
  const gated = failOnRegression || report.floors.length > 0;
  if (gated && report.stopped === 'budget') out.push('the run stopped at its budget before every trial ran');
  if (gated && report.stopped === 'interrupted') out.push('the run was interrupted (resume it with --resume)');
  return out;
}

/** Why two experiments cannot be compared (another dataset or version), saying what to do; null when they can. */
export function datasetMismatch(baseline: Experiment, candidate: Experiment): string | null {
  if (baseline.datasetId === candidate.datasetId && baseline.datasetVersion === candidate.datasetVersion) return null;
  const where = (e: Experiment) => (e.datasetId ? `dataset ${e.datasetId} version ${e.datasetVersion}` : 'inline cases (no dataset)');
  return (
    `Cannot compare: the baseline ${baseline.id} ran on ${where(baseline)}, this run on ${where(candidate)}. ` +
    'Comparisons pair the cases of one dataset version: pin the version in the eval (data: { dataset, version }) ' +
    `or record a new baseline on ${where(candidate)} (run hangar eval without --baseline on your main branch).`
  );
}

const num = (v: number | null | undefined, digits = 3) => (v === null || v === undefined ? '–' : v.toFixed(digits));
const signed = (v: number | null, digits = 3) => (v === null ? '–' : `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`);
const pValue = (v: number | null) => (v === null ? '–' : v < 0.001 ? '<0.001' : v.toFixed(3));
const VERDICT_TEXT = { improved: 'improved', regressed: 'regressed', no_significant_change: 'no significant change' } as const;

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

function metricLine(m: MetricComparison): string {
  return `${m.name}: ${num(m.baselineMean)} → ${num(m.candidateMean)} (Δ ${signed(m.meanDelta)}, 95% CI ${signed(m.ciLow)}..${signed(m.ciHigh)}, ${m.test} p=${pValue(m.adjustedPValue ?? m.pValue)}, n=${m.pairs}) ${VERDICT_TEXT[m.verdict]}`;
}

/**
 * JUnit XML: a test suite per eval, a test case per compared metric and per floor; a regression or a
 * floor not met is a failure, so CI systems show it with their usual test reports.
 */
export function renderJUnit(reports: readonly EvalReport[]): string {
  const suites = reports.map((r) => {
    const cases: string[] = [];
    const testcase = (name: string, failure: string | null, detail: string) =>
      `    <testcase classname="${escapeXml(r.name)}" name="${escapeXml(name)}">` +
      (failure ? `\n      <failure message="${escapeXml(failure)}">${escapeXml(detail)}</failure>\n    ` : '') +
      `<system-out>${escapeXml(detail)}</system-out></testcase>`;
    for (const m of r.comparison?.metrics ?? []) {
      cases.push(testcase(`${m.name} vs baseline`, m.verdict === 'regressed' ? `${m.name} regressed` : null, metricLine(m)));
    }
    for (const f of r.floors) {
      cases.push(testcase(`${f.metric} >= ${f.min}`, f.ok ? null : `${f.metric} below floor`, `${f.metric} mean ${num(f.mean)}, floor ${f.min}`));
    }
    if (r.stopped) cases.push(testcase('run completed', `run ${r.stopped === 'budget' ? 'stopped at its budget' : 'interrupted'}`, ''));
    if (cases.length === 0) {
      const scores = r.experiment.scores.map((s) => `${s.name} ${num(s.mean)}`).join(', ');
      cases.push(testcase('run completed', null, scores));
    }
    const failures = cases.filter((c) => c.includes('<failure')).length;
    return (
      `  <testsuite name="${escapeXml(r.name)}" tests="${cases.length}" failures="${failures}" errors="0" ` +
      `timestamp="${escapeXml(r.experiment.createdAt)}">\n` +
      `    <properties><property name="experiment" value="${escapeXml(r.experiment.id)}"/>` +
      (r.baseline ? `<property name="baseline" value="${escapeXml(r.baseline.id)}"/>` : '') +
      `</properties>\n${cases.join('\n')}\n  </testsuite>`
    );
  });
  const tests = reports.reduce((n, _r, i) => n + (suites[i]!.match(/<testcase /g)?.length ?? 0), 0);
  const failures = suites.reduce((n, s) => n + (s.match(/<failure /g)?.length ?? 0), 0);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="hangar eval" tests="${tests}" failures="${failures}">\n${suites.join('\n')}\n</testsuites>\n`;
}

function mdCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** A Markdown summary fit for a pull-request comment: verdict first, a table of metrics, the cases that moved most. */
export function renderMarkdown(reports: readonly EvalReport[], options: { baseUrl?: string } = {}): string {
  const lines: string[] = ['## Hangar eval', ''];
  const failed = reports.filter((r) => r.failures.length > 0);
  lines.push(failed.length === 0 ? `**Passed**: ${reports.length} eval${reports.length === 1 ? '' : 's'}, no significant regression.` : `**Failed**: ${failed.map((r) => r.name).join(', ')}.`, '');
  for (const r of reports) {
    const e = r.experiment;
    lines.push(`### ${mdCell(r.name)} — ${r.failures.length ? 'failed' : 'passed'}`, '');
    for (const f of r.failures) lines.push(`- ${mdCell(f)}`);
    if (r.failures.length) lines.push('');
    const link = options.baseUrl ? ` ([view](${options.baseUrl.replace(/\/+$/, '')}/experiments/${e.id}))` : '';
    lines.push(
      `Experiment \`${e.id}\`${link}: ${e.trialsDone} trials (${e.trials} per case), cost ${(e.costMicros / 1e6).toFixed(4)} USD` +
        (r.baseline ? `; baseline \`${r.baseline.id}\` (${mdCell(r.baseline.name)}, ${r.baseline.createdAt.slice(0, 10)})` : '') +
        (e.datasetId ? `; dataset \`${e.datasetId}\` v${e.datasetVersion}` : '') +
        '.',
      '',
    );
    if (r.comparison) {
      lines.push(`| metric | baseline | candidate | Δ | 95% CI | test | p (Holm) | verdict |`, `|---|---:|---:|---:|---|---|---:|---|`);
      for (const m of r.comparison.metrics) {
        lines.push(
          `| ${mdCell(m.name)} | ${num(m.baselineMean)} | ${num(m.candidateMean)} | ${signed(m.meanDelta)} | ${signed(m.ciLow)} .. ${signed(m.ciHigh)} | ${m.test} | ${pValue(m.adjustedPValue)} | ${m.verdict === 'regressed' ? '**regressed**' : VERDICT_TEXT[m.verdict]} |`,
        );
      }
      lines.push('', `Significance level α = ${r.comparison.alpha}; p-values Holm-corrected across ${r.comparison.metrics.length} metrics; cases paired by id.`, '');
      const moved = r.comparison.cases
        .map((c) => ({ id: c.caseId, worst: Math.min(...Object.values(c.delta).map((d) => d ?? 0)), delta: c.delta }))
        .filter((c) => c.worst < 0)
        .sort((a, b) => a.worst - b.worst)
        .slice(0, 10);
      if (moved.length) {
        lines.push('<details><summary>Cases that got worse most</summary>', '', '| case | Δ per metric |', '|---|---|');
        for (const c of moved) {
          const deltas = Object.entries(c.delta).map(([k, v]) => `${k} ${signed(v, 2)}`).join(', ');
          lines.push(`| \`${mdCell(c.id)}\` | ${mdCell(deltas)} |`);
        }
        lines.push('', '</details>', '');
      }
    } else {
      lines.push('| metric | mean | 95% CI | pass rate | errors |', '|---|---:|---|---:|---:|');
      for (const s of e.scores) {
        lines.push(`| ${mdCell(s.name)} | ${num(s.mean)} | ${num(s.ciLow)} .. ${num(s.ciHigh)} | ${s.passRate === null ? '–' : `${(s.passRate * 100).toFixed(1)}%`} | ${s.errors} |`);
      }
      lines.push('');
    }
    if (r.floors.length) {
      lines.push('Floors: ' + r.floors.map((f) => `${f.metric} ${num(f.mean)} ≥ ${f.min} ${f.ok ? '✓' : '✗'}`).join('; '), '');
    }
  }
  return lines.join('\n');
}

/** The console's summary of one eval, for people. */
export function renderText(r: EvalReport): string {
  const e = r.experiment;
  const lines = [`${r.name}: experiment ${e.id}, ${e.trialsDone} trials, cost ${(e.costMicros / 1e6).toFixed(4)} USD${r.stopped ? ` (stopped: ${r.stopped})` : ''}`];
  for (const s of e.scores) {
    lines.push(`  ${s.name.padEnd(24)} mean ${num(s.mean)}  95% CI ${num(s.ciLow)}..${num(s.ciHigh)}  pass ${s.passRate === null ? '–' : `${(s.passRate * 100).toFixed(1)}%`}${s.errors ? `  errors ${s.errors}` : ''}`);
  }
  if (r.comparison) {
    lines.push(`  vs baseline ${r.comparison.baselineId}: ${VERDICT_TEXT[r.comparison.verdict]}`);
    for (const m of r.comparison.metrics) lines.push(`    ${metricLine(m)}`);
  }
  for (const f of r.floors) lines.push(`  floor ${f.metric} ≥ ${f.min}: ${num(f.mean)} ${f.ok ? 'ok' : 'BELOW'}`);
  lines.push(r.failures.length ? `  GATE FAILED: ${r.failures.join('; ')}` : r.comparison || r.floors.length ? '  gate passed' : '');
  return lines.filter((l) => l !== '').join('\n');
}
