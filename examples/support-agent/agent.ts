/**
 * A small support agent: it reads its prompt from prompt.md, asks the model (through Hangar's
 * gateway), runs the tool the model calls (order lookup, refund policy), and answers with what the
 * model makes of the result.
 */
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { traceTool, wrapOpenAI } from '@hangar/sdk';
import { MODEL } from './scripted-model.js';

const orders = JSON.parse(readFileSync(new URL('./orders.json', import.meta.url), 'utf8')) as Record<string, unknown>;

const tools = {
  lookup_order: traceTool('lookup_order', ({ orderId }: { orderId: string }) => ({ orderId, ...(orders[orderId] ?? { status: 'unknown' }) })),
  refund_policy: traceTool('refund_policy', () => ({ windowDays: 30, refundShipping: true })),
};

export interface Gateway {
  baseURL: string;
  apiKey: string;
  fetch?: typeof fetch;
}

/** The prompt, read anew on every call: editing prompt.md (or the file SUPPORT_AGENT_PROMPT names) changes the agent. */
export function prompt(ticket: string): string {
  const file = process.env.SUPPORT_AGENT_PROMPT ?? new URL('./prompt.md', import.meta.url);
  return readFileSync(file, 'utf8').replace('{{ticket}}', ticket);
}

export async function answerTicket(ticket: string, gateway: Gateway, signal?: AbortSignal): Promise<string> {
  const openai = wrapOpenAI(new OpenAI({ baseURL: gateway.baseURL, apiKey: gateway.apiKey, fetch: gateway.fetch, maxRetries: 0 }));
  // the model is sampled: [sample N] stands for the randomness of a real one
  const messages: OpenAI.ChatCompletionMessageParam[] = [
    { role: 'user', content: `${prompt(ticket)}\n[sample ${Math.floor(Math.random() * 10)}]` },
  ];
  for (let step = 0; step < 4; step++) {
    const completion = await openai.chat.completions.create({ model: MODEL, messages, tools: TOOL_SPECS }, { signal });
    const message = completion.choices[0]!.message;
    const call = message.tool_calls?.find((c) => c.type === 'function');
    if (!call) return message.content ?? '';
    const name = call.function.name as keyof typeof tools;
    const result = tools[name] ? await tools[name](JSON.parse(call.function.arguments || '{}')) : { error: `no tool ${name}` };
    messages.push(message, { role: 'tool', tool_call_id: call.id, content: JSON.stringify(result) });
    // the scripted model reads the last user message, so the result is reported as one too
    messages.push({ role: 'user', content: `TOOL ${name} RESULT ${JSON.stringify(result)}` });
  }
  throw new Error('the agent did not answer within 4 steps');
}

const TOOL_SPECS: OpenAI.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'lookup_order',
      description: "An order's status and expected delivery",
      parameters: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] },
    },
  },
  { type: 'function', function: { name: 'refund_policy', description: 'The refund policy', parameters: { type: 'object', properties: {} } } },
];
