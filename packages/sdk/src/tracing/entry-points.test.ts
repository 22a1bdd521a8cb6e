import { describe, expect, it } from 'vitest';
import * as main from '@hangar/sdk';
import * as tracing from '@hangar/sdk/tracing';
import * as evals from '@hangar/sdk/evals';
import * as scorers from '@hangar/evals';

describe('entry points', () => {
  it('@hangar/sdk/tracing has the whole tracing API', () => {
    expect(Object.keys(tracing).sort()).toEqual([
      'HangarExporter',
      'HangarSpanProcessor',
      'aiSdkTelemetry',
      'setupHangarTracing',
      'traceTool',
      'traced',
      'withSpan',
      'wrapAnthropic',
      'wrapOpenAI',
    ]);
  });

  it('@hangar/sdk has the browser-safe helpers and wrappers, the same functions, and no exporter', () => {
    for (const name of [
      'withSpan',
      'traced',
      'traceTool',
      'wrapOpenAI',
      'wrapAnthropic',
      'aiSdkTelemetry',
    ] as const) {
      expect(main[name]).toBe(tracing[name]);
    }
    expect(Object.keys(main)).not.toContain('HangarExporter');
    expect(Object.keys(main)).not.toContain('setupHangarTracing');
  });

  it('@hangar/sdk/evals has Eval() and every export of @hangar/evals, so an eval file needs one import', () => {
    expect(typeof evals.Eval).toBe('function');
    for (const [name, value] of Object.entries(scorers)) expect(evals[name as keyof typeof evals], name).toBe(value);
    expect(Object.keys(main)).not.toContain('Eval');
  });
});
