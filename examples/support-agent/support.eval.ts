/**
 * The support agent's eval: 20 tickets (cases.jsonl), 3 trials each, scored on the answer (does it
 * state the order's status, or the refund window) and on the trajectory (did the agent call the
 * right tool, with the right arguments, in few steps).
 *
 *   hangar eval examples/support-agent                       # record an experiment
 *   hangar eval examples/support-agent --baseline support-agent@latest --fail-on regression
 */
import { readFileSync } from 'node:fs';
import { Eval, type Scorer } from '@hangar/sdk/evals';
import { answerTicket } from './agent.js';

interface Ticket {
  ticket: string;
}

const cases = readFileSync(new URL('./cases.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as { id: string; input: Ticket; expected: string; metadata: Record<string, unknown> });

const answerStatesFact: Scorer<Ticket, string, string> = {
  name: 'answer',
  score: ({ output, expected }) => expected !== undefined && output.toLowerCase().includes(expected.toLowerCase()),
};

const rightTool: Scorer<Ticket, string, string> = {
  name: 'right_tool',
  usesTrace: true,
  score: ({ spans, metadata }) => {
    const calls = spans.filter((s) => s.kind === 'tool');
    const want = metadata.tool as string;
    const args = metadata.orderId === undefined || calls.some((s) => (s.toolArguments as { orderId?: string } | null)?.orderId === metadata.orderId);
    return calls.some((s) => s.toolName === want) && args;
  },
};

const fewSteps: Scorer<Ticket, string, string> = {
  name: 'steps',
  usesTrace: true,
  score: ({ spans }) => spans.filter((s) => s.kind === 'llm').length <= 2,
};

await Eval('support-agent', {
  data: cases,
  task: (input, ctx) => answerTicket(input.ticket, ctx.gateway, ctx.signal),
  scorers: [answerStatesFact, rightTool, fewSteps],
  trials: 3,
  maxConcurrency: 4,
  timeoutMs: 20_000,
  metadata: { prompt: 'prompt.md' },
});
