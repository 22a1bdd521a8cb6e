import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText } from 'ai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { aiSdkTelemetry } from './ai-sdk.js';
import { withSpan } from './spans.js';
import { USAGE, recordSpans, startFakeProvider, type FakeProvider } from './test-support.js';

const recorded = recordSpans();
let provider: FakeProvider;
let openai: ReturnType<typeof createOpenAI>;

beforeAll(async () => {
  provider = await startFakeProvider();
  openai = createOpenAI({ baseURL: `${provider.url}/v1`, apiKey: 'sk-test' });
});
afterAll(() => provider.close());
beforeEach(() => recorded.reset());

describe('aiSdkTelemetry', () => {
  it("sends the AI SDK's spans through Hangar's tracer, nested under the active span, with prompts and usage", async () => {
    const { text } = await withSpan('agent turn', () =>
      generateText({
        model: openai.chat('gpt-4o-mini'),
        prompt: 'Hello AI SDK',
        experimental_telemetry: aiSdkTelemetry({ functionId: 'greeter', metadata: { tenant: 'acme' } }),
      }),
    );
    expect(text).toBe('echo: Hello AI SDK');

    const spans = recorded.spans();
    const root = spans.find((s) => s.name === 'agent turn')!;
    const outer = spans.find((s) => s.name === 'ai.generateText')!;
    const call = spans.find((s) => s.name === 'ai.generateText.doGenerate')!;
    expect(outer.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(call.parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
    expect(outer.instrumentationScope.name).toBe('@hangar/sdk');
    expect(outer.attributes).toMatchObject({
      'ai.telemetry.functionId': 'greeter',
      'ai.telemetry.metadata.tenant': 'acme',
    });
    expect(String(outer.attributes['ai.prompt'])).toContain('Hello AI SDK');
    expect(call.attributes).toMatchObject({
      'gen_ai.system': expect.stringContaining('openai'),
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': USAGE.input,
      'gen_ai.usage.output_tokens': USAGE.output,
      'ai.response.text': 'echo: Hello AI SDK',
    });
  });

  it('covers streamText, and leaves prompts and outputs out when asked', async () => {
    const result = streamText({
      model: openai.chat('gpt-4o-mini'),
      prompt: 'secret prompt',
      experimental_telemetry: aiSdkTelemetry({ recordContent: false }),
    });
    let text = '';
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe('echo: secret prompt');
    await result.consumeStream();
    const spans = recorded.spans();
    expect(spans.map((s) => s.name)).toEqual(
      expect.arrayContaining(['ai.streamText', 'ai.streamText.doStream']),
    );
    const everything = JSON.stringify(spans.map((s) => s.attributes));
    expect(everything).not.toContain('secret prompt');
    expect(everything).not.toContain('echo:');
  });
});
