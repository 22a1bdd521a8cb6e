/**
 * The offline model this example runs against: a Hangar `scripted` provider (rules on the last user
 * message and the turn, see docs/gateway.md). It behaves like a noisy model on purpose: the agent adds
 * a random `[sample N]` (0–9) to every ticket, and whether the model looks the order up first depends
 * on it — 9 samples in 10 with the careful prompt, 3 in 10 with a hasty one. So the same prompt scores
 * differently from run to run, and only a real change shows as significant.
 */
import { readFileSync } from 'node:fs';
import type { Script, ScriptRule } from '@hangar/protocol';

export const PROVIDER = 'support-scripted';
export const MODEL = `${PROVIDER}/acme-1`;

const orders = JSON.parse(readFileSync(new URL('./orders.json', import.meta.url), 'utf8')) as Record<string, { status: string }>;

/** Samples under which the model does its job, by the style the prompt asks for. */
const GOOD_SAMPLES = { careful: '[0-8]', hasty: '[0-2]' };

export function supportScript(): Script {
  const rules: ScriptRule[] = [];
  // turn 2: the agent reports a tool's result; the model answers from it
  for (const status of new Set(Object.values(orders).map((o) => o.status))) {
    rules.push({
      match: { lastUser: `^TOOL lookup_order RESULT .*"status":"${status}"` },
      reply: { text: `I checked: your order is ${status}. Anything else I can do?` },
    });
  }
  rules.push({
    match: { lastUser: '^TOOL refund_policy RESULT' },
    reply: { text: 'You can return any item within 30 days for a full refund, shipping included.' },
  });
  // turn 1: look the order up (or read the policy), if this sample goes well
  for (const [style, samples] of Object.entries(GOOD_SAMPLES)) {
    for (const id of Object.keys(orders)) {
      rules.push({
        match: { turn: 1, lastUser: `Style: ${style}[\\s\\S]*#${id}\\b[\\s\\S]*\\[sample ${samples}\\]` },
        reply: { toolCalls: [{ name: 'lookup_order', arguments: { orderId: id } }] },
      });
    }
    rules.push({
      match: { turn: 1, lastUser: `Style: ${style}[\\s\\S]*(return|refund|money back)[\\s\\S]*\\[sample ${samples}\\]` },
      reply: { toolCalls: [{ name: 'refund_policy', arguments: {} }] },
    });
  }
  // otherwise it guesses, without looking anything up
  return { rules, fallback: { text: 'Thanks for reaching out! A colleague will get back to you soon.' } };
}
