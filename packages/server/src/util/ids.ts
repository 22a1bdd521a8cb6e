import { randomFillSync } from 'node:crypto';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

// Random bytes are drawn from the CSPRNG 4 KiB at a time: one call per 256 ids instead of one each
// (the call, not the bytes, is the cost; the ledger makes several ids per transfer).
const pool = Buffer.alloc(4096);
let poolAt = pool.length;

/** The next `n` (≤ 4096) random bytes of the pool, as [start, end) in `pool`. */
function take(n: number): [number, number] {
  if (poolAt + n > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  poolAt += n;
  return [poolAt - n, poolAt];
}

function random16(): string {
  const [start, end] = take(16);
  let out = '';
  for (let i = start; i < end; i++) out += CROCKFORD[pool[i]! & 31];
  return out;
}

/**
 * `bytes` random bytes as lowercase hex, from the same pool: trace and span ids, wire ids.
 * @example randomHex(8) // 'f3a9c2e07b1d4856'
 */
export function randomHex(bytes: number): string {
  const [start, end] = take(bytes);
  return pool.toString('hex', start, end);
}

/**
 * A new id: `prefix_` + 10 characters of millisecond time (so ids sort by creation) + 16 random ones.
 * @example newId('key') // 'key_01jf4k2c3d9x8w7v6t5s4r3q2p'
 */
export function newId(prefix: string): string {
  let time = Date.now();
  let stamp = '';
  for (let i = 0; i < 10; i++) {
    stamp = CROCKFORD[time % 32] + stamp;
    time = Math.floor(time / 32);
  }
  return `${prefix}_${stamp}${random16()}`;
}

/** The current time as an RFC 3339 UTC string with milliseconds. */
export function nowIso(): string {
  return new Date().toISOString();
}
