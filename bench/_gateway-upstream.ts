// Child process of gateway.bench.ts: the fake provider, on its own core budget. Prints its URL.
import { startFakeUpstream } from '../packages/server/src/gateway/fake-upstream.js';

const fake = await startFakeUpstream();
// the benchmark sends thousands of requests; keep no per-request records
fake.requests.push = () => 0;
fake.aborted.push = () => 0;
console.log(`UPSTREAM ${fake.url}`);
process.on('SIGTERM', () => void fake.close().then(() => process.exit(0)));
