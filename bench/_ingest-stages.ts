/**
 * CPU time per span of each in-memory stage of OTLP ingest, on the ingest benchmark's workload — to see
 * where ingest spends its time besides SQLite. Not a benchmark of its own (no baseline):
 *
 *   node --import tsx bench/_ingest-stages.ts
 */
import { createPriceBook } from '../packages/server/src/pricing/pricing.js';
import { normalizeSpan } from '../packages/server/src/traces/normalize.js';
import { decodeTraceRequest } from '../packages/server/src/traces/otlp-decode.js';
import { spanRowValues } from '../packages/server/src/traces/traces-store.js';
import { canonicalJson, sha256Hex } from '../packages/server/src/util/hash.js';
import { workload } from './ingest.bench.js';

const N = 20_000;
const ROUNDS = 5;
const w = workload(N);

function stage(name: string, run: () => void): void {
  for (let i = 0; i < 2; i++) run();
  const start = process.cpuUsage();
  for (let i = 0; i < ROUNDS; i++) run();
  const used = process.cpuUsage(start);
  console.log(`${name.padEnd(44)} ${((used.user + used.system) / ROUNDS / N).toFixed(2).padStart(6)} µs/span`);
}

stage('decode protobuf', () => w.bodies.protobuf.forEach((b) => decodeTraceRequest(b, 'protobuf')));
stage('decode JSON', () => w.bodies.json.forEach((b) => decodeTraceRequest(b, 'json')));
const decoded = w.bodies.protobuf.map((b) => decodeTraceRequest(b, 'protobuf').spans);
stage('normalize', () => decoded.forEach((spans) => spans.map(normalizeSpan)));
const inputs = decoded.flatMap((spans) => spans.map(normalizeSpan));
stage('blob content: canonical JSON + sha256', () => {
  for (const s of inputs) for (const v of [s.input, s.output]) if (v !== undefined) sha256Hex(Buffer.from(canonicalJson(v)));
});
const book = createPriceBook([]);
stage('price', () => {
  for (const s of inputs) book.costOf({ provider: s.provider, model: s.model, time: s.startTime, usage: s.usage });
});
const spans = inputs.map(({ input: _i, output: _o, ...s }) => ({ ...s, costMicros: null, costDiffers: false, inputSha256: null, outputSha256: null }));
stage('row values (attributes as JSON)', () => spans.forEach((s) => spanRowValues('proj', s)));
