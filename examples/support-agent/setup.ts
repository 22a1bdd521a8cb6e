/**
 * Installs this example's scripted model in a Hangar project: the `support-scripted` provider and a
 * price for it (so experiments have a cost and a budget means something). Needs an admin key.
 *
 *   HANGAR_URL=http://127.0.0.1:7070 HANGAR_API_KEY=hk_… npx tsx examples/support-agent/setup.ts
 */
import { PROVIDER, supportScript } from './scripted-model.js';

/** Micro-USD per million tokens: $2 in, $8 out, about a small hosted model's price. */
const PRICE = { input: 2_000_000, output: 8_000_000 };

export async function installScriptedModel(baseUrl: string, adminKey: string): Promise<void> {
  const put = async (path: string, body: unknown) => {
    const res = await fetch(new URL(path, baseUrl), {
      method: 'PUT',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`PUT ${path}: ${res.status} ${await res.text()}`);
  };
  await put(`/v1/gateway/providers/${PROVIDER}`, { type: 'scripted', script: supportScript() });
  await put('/v1/prices', {
    overrides: [{ provider: PROVIDER, model: '*acme-1', effectiveFrom: '2020-01-01T00:00:00Z', ...PRICE }],
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const baseUrl = process.env.HANGAR_URL ?? 'http://127.0.0.1:7070';
  const key = process.env.HANGAR_API_KEY;
  if (!key) throw new Error('set HANGAR_API_KEY to an admin key');
  await installScriptedModel(baseUrl, key);
  console.log(`Installed ${PROVIDER} in the project at ${baseUrl}.`);
}
