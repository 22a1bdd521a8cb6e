/**
 * The support agent's eval: 20 tickets (cases.jsonl), 3 trials each, scored on the answer (does it
 * state the order's status, or the refund window) and on the trajectory (did the agent call the
 * right tool, with the right arguments, in few steps).
 *
 *   hangar eval examples/support-agent                       # record an experiment
 *   hangar eval examples/support-agent --baseline support-agent@latest --fail-on regression
 */
import { readFileSync } from 'node:fs';
import { Eval, includes, scorer, stepCount } from '@hangar/sdk/evals';
import { answerTicket } from './agent.js';

interface Ticket {
  ticket: string;
}

const cases = readFileSync(new URL('./cases.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as { id: string; input: Ticket; expected: string; metadata: Record<string, unknown> });

// the answer states the order's status (or the refund window): the case's `expected`
const answer = includes(undefined, { name: 'answer', caseSensitive: false });

// trajectory: the tool this ticket needs was called, for the order the ticket names
const rightTool = scorer<Ticket, string, string>(
  'right_tool',
  ({ spans, metadata }) =>
    spans.some(
      (s) =>
        s.kind === 'tool' &&
        s.toolName === metadata.tool &&
        (metadata.orderId === undefined || (s.toolArguments as { orderId?: string } | null)?.orderId === metadata.orderId),
    ),
  { usesTrace: true },
);

// trajectory: at most two model calls (ask, then answer from the tool's result)
const steps = stepCount({ name: 'steps', max: 2, kinds: ['llm'] });

await Eval('support-agent', {
  data: cases,
  task: (input, ctx) => answerTicket(input.ticket, ctx.gateway, ctx.signal),
  scorers: [answer, rightTool, steps],
  trials: 3,
  maxConcurrency: 4,
  timeoutMs: 20_000,
  metadata: { prompt: 'prompt.md' },
});
