import { expect, it } from 'vitest';
import { createSecretBox } from './secret-box.js';

it('seals so that only the same secret and row open it', () => {
  const box = createSecretBox('a-long-enough-secret-1')!;
  const sealed = box.seal('sk-live-123', 'proj_a/openai');
  expect(sealed).not.toContain('sk-live-123');
  expect(box.seal('sk-live-123', 'proj_a/openai')).not.toBe(sealed); // a fresh IV each time
  expect(box.open(sealed, 'proj_a/openai')).toBe('sk-live-123');
  expect(box.open(sealed, 'proj_b/openai')).toBeNull();
  expect(createSecretBox('another-long-secret-2')!.open(sealed, 'proj_a/openai')).toBeNull();
  const [v, iv, tag, ct] = sealed.split('.');
  const flipped = Buffer.from(ct!, 'base64url');
  flipped[0]! ^= 1;
  expect(box.open([v, iv, tag, flipped.toString('base64url')].join('.'), 'proj_a/openai')).toBeNull();
});

it('is absent without a secret and refuses a short one', () => {
  expect(createSecretBox(undefined)).toBeNull();
  expect(createSecretBox('')).toBeNull();
  expect(() => createSecretBox('short')).toThrow(/at least 16/);
});
