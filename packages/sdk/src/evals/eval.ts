import { createClient } from '../client.js';
import { setupHangarTracing } from '../tracing/setup.js';
import { createClientBackend } from './backend.js';
import { runEval } from './runner.js';
import type { EvalOptions, EvalSummary, RunEvalOptions } from './types.js';

/**
 * How `hangar eval` takes over the `Eval()` calls of the files it imports: it puts a runner here
 * before the import, and `Eval()` hands its definition to it instead of running on its own.
 */
export interface EvalHost {
  run(name: string, options: EvalOptions<never, never, never>): Promise<EvalSummary>;
}

const HOST = Symbol.for('hangar.evals.host');

/** Installs (or removes, with null) the host that runs `Eval()` calls; for the CLI. */
export function setEvalHost(host: EvalHost | null): void {
  (globalThis as { [HOST]?: EvalHost | null })[HOST] = host;
}

function evalHost(): EvalHost | null {
  return (globalThis as { [HOST]?: EvalHost | null })[HOST] ?? null;
}

/** Hangar's tracing, set up once for evals run outside a host that did it already. */
let tracing: { flush(): Promise<void> } | null = null;

/**
 * Runs everything an eval needs in this process: Hangar tracing (unless a tracer provider is already
 * registered: then the application's is used), the client, and the run itself; flushes the spans
 * before returning.
 */
export async function runEvalHere<I, O, E>(
  name: string,
  options: EvalOptions<I, O, E>,
  run: RunEvalOptions,
): Promise<EvalSummary> {
  if (!tracing) {
    const mine = setupHangarTracing({ baseUrl: run.baseUrl, apiKey: run.apiKey, serviceName: 'hangar-eval', onWarning: () => {} });
    if (mine.registered) tracing = mine;
    else {
      // the application registered its own provider (with a HangarSpanProcessor, we hope): use it
      await mine.shutdown();
      tracing = { flush: async () => {} };
    }
  }
  const client = createClient({ baseUrl: run.baseUrl, apiKey: run.apiKey, ...(run.fetch ? { fetch: run.fetch } : {}) });
  try {
    return await runEval(name, options, run, createClientBackend(client));
  } finally {
    await tracing?.flush();
  }
}

/**
 * Defines an eval: cases (`data`), the `task` under test, `scorers`, and how many `trials` per case.
 * In a `*.eval.ts` file run by `hangar eval`, the CLI runs it (with its progress bar, resume and CI
 * gate); run any other way, it runs at once against `HANGAR_URL` with `HANGAR_API_KEY`. Every trial
 * is its own trace, named after the experiment, case and trial; results go to a Hangar experiment.
 * @example
 * import { Eval, exact, toolUsed } from '@hangar/sdk/evals';
 * Eval('support-agent', {
 *   data: [{ input: 'Where is my order 42?', expected: 'shipped' }],
 *   task: async (input, ctx) => answer(input, ctx.gateway),
 *   scorers: [exact(), toolUsed('lookup_order')],
 *   trials: 5,
 * });
 */
export function Eval<Input, Output, Expected = unknown>(
  name: string,
  options: EvalOptions<Input, Output, Expected>,
): Promise<EvalSummary> {
  const host = evalHost();
  if (host) return host.run(name, options as unknown as EvalOptions<never, never, never>);
  const baseUrl = process.env.HANGAR_URL;
  const apiKey = process.env.HANGAR_API_KEY;
  if (!baseUrl || !apiKey) {
    return Promise.reject(new Error(`Eval ${name}: set HANGAR_URL and HANGAR_API_KEY, or run it with: hangar eval <file>`));
  }
  return runEvalHere(name, options, { baseUrl, apiKey });
}
