import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { ERROR_CODES } from '@hangar/protocol';

it('docs/api.md documents every error code with its status', () => {
  const doc = readFileSync(fileURLToPath(new URL('../../../../docs/api.md', import.meta.url)), 'utf8');
  for (const [code, { status }] of Object.entries(ERROR_CODES)) {
    expect(doc, `docs/api.md lacks ${code}`).toContain(`| \`${code}\` | ${status} |`);
  }
});
