// An app instrumented the way its authors document, configured only by the standard OTel env vars
// (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME). Usage:
//   node instrumented-app.cjs openinference|genai|ai-sdk   (FAKE_OPENAI_URL = the fake provider)
// It makes the same calls in each mode: a chat answered with text, a chat answered with a tool call,
// a chat that fails upstream, and an embedding; then flushes its spans and exits.
'use strict';
const { NodeTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-node');
const { registerInstrumentations } = require('@opentelemetry/instrumentation');

const mode = process.argv[2];
const baseURL = process.env.FAKE_OPENAI_URL;
const Exporter =
  mode === 'ai-sdk'
    ? require('@opentelemetry/exporter-trace-otlp-http').OTLPTraceExporter // OTLP/JSON
    : require('@opentelemetry/exporter-trace-otlp-proto').OTLPTraceExporter; // OTLP/protobuf
const { detectResources, envDetector } = require('@opentelemetry/resources');
const provider = new NodeTracerProvider({
  resource: detectResources({ detectors: [envDetector] }), // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
  spanProcessors: [new BatchSpanProcessor(new Exporter())],
});
provider.register();

if (mode === 'openinference') {
  const { OpenAIInstrumentation } = require('@arizeai/openinference-instrumentation-openai');
  registerInstrumentations({ instrumentations: [new OpenAIInstrumentation()] });
} else if (mode === 'genai') {
  const { OpenAIInstrumentation } = require('@opentelemetry/instrumentation-openai');
  registerInstrumentations({ instrumentations: [new OpenAIInstrumentation()] });
}

const tools = [
  {
    type: 'function',
    function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
  },
];

async function withOpenAIClient() {
  const { OpenAI } = require('openai');
  const client = new OpenAI({ apiKey: 'sk-fake', baseURL, maxRetries: 0 });
  await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Say hello' },
    ],
  });
  await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What is the weather in Oslo?' }], tools });
  await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Please fail' }] }).catch(() => {});
  await client.embeddings.create({ model: 'text-embedding-3-small', input: 'embed me' });
}

async function withAiSdk() {
  const { generateText, streamText, embed, tool, jsonSchema, stepCountIs } = require('ai');
  const { createOpenAI } = require('@ai-sdk/openai');
  const openai = createOpenAI({ apiKey: 'sk-fake', baseURL });
  const telemetry = { isEnabled: true, functionId: 'conformance' };
  await generateText({ model: openai.chat('gpt-4o-mini'), system: 'Be brief.', prompt: 'Say hello', experimental_telemetry: telemetry });
  await generateText({
    model: openai.chat('gpt-4o-mini'),
    prompt: 'What is the weather in Oslo?',
    tools: {
      get_weather: tool({
        description: 'Weather in a city',
        inputSchema: jsonSchema({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
        execute: async ({ city }) => ({ city, forecast: 'rain' }),
      }),
    },
    stopWhen: stepCountIs(2),
    experimental_telemetry: telemetry,
  });
  const stream = streamText({ model: openai.chat('gpt-4o-mini'), prompt: 'Stream a hello', experimental_telemetry: telemetry });
  await stream.text;
  await generateText({ model: openai.chat('gpt-4o-mini'), prompt: 'Please fail', maxRetries: 0, experimental_telemetry: telemetry }).catch(() => {});
  await embed({ model: openai.embedding('text-embedding-3-small'), value: 'embed me', experimental_telemetry: telemetry });
}

(async () => {
  if (mode === 'ai-sdk') await withAiSdk();
  else await withOpenAIClient();
  await provider.shutdown();
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
