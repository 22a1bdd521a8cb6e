import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

function base32(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += CROCKFORD[b & 31];
  return out;
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
  return `${prefix}_${stamp}${base32(randomBytes(16))}`;
}

/** The current time as an RFC 3339 UTC string with milliseconds. */
export function nowIso(): string {
  return new Date().toISOString();
}
