import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../util/hash.js';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const KEY_PREFIX = 'hk_';
const KEY_PATTERN = /^hk_[0-9A-Za-z]{32}$/;

/**
 * A new API key: `hk_` + 32 base62 characters (~190 bits). The `hk_` prefix lets secret scanners and
 * people recognise a leaked key; only its sha256 is stored (the key is random, so no slow hash is needed).
 */
export function generateApiKey(): string {
  const bytes = randomBytes(32);
  let body = '';
  for (const b of bytes) if (body.length < 32 && b < 248) body += ALPHABET[b % 62];
  while (body.length < 32) body += ALPHABET[randomBytes(1)[0]! % 62];
  return KEY_PREFIX + body;
}

export function isWellFormedKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

export function hashApiKey(key: string): string {
  return sha256Hex(key);
}

/** What is shown of a key in lists and logs. */
export function keyPrefix(key: string): string {
  return key.slice(0, 10);
}
