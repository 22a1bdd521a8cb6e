import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, createTestApp, type TestApp } from '../test-app.js';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.js';
import { createGatewayStore } from './gateway-store.js';
import type { ProviderNetworkOptions } from './provider-network.js';

const PROJECT = 'proj_default';

/** Hangar on a socket, calling the fake provider through the real upstream client (and so the guarded lookup). */
async function start(providerNetwork: ProviderNetworkOptions) {
  const t = await createTestApp('sqlite', { providerNetwork });
  const server = await t.listen();
  return {
    t,
    openai: new OpenAI({ baseURL: `${server.url}/v1`, apiKey: ADMIN_KEY, maxRetries: 0 }),
    async close() {
      await server.close();
      await t.close();
    },
  };
}

describe('provider base URLs the server may not call', () => {
  let fake: FakeUpstream;
  let port: string;
  beforeAll(async () => {
    fake = await startFakeUpstream();
    port = new URL(fake.url).port;
  });
  afterAll(() => fake.close());

  const lastCall = async (t: TestApp) => {
    await t.gateway.recorded();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return (await t.journal.read(PROJECT, 'gateway', 0, 1000)).events.at(-1)!.payload as Record<string, any>;
  };

  it('refuses a metadata base URL when it is saved, stores nothing, and still allows a local Ollama', async () => {
    const app = await start({});
    try {
      const { t } = app;
      for (const baseUrl of [
        'http://169.254.169.254/latest/meta-data',
        'http://[fd00:ec2::254]/v1',
        'http://metadata.google.internal/v1',
      ]) {
        const res = await t.request('PUT', '/v1/gateway/providers/sneaky', {
          body: { type: 'openai-compatible', baseUrl },
        });
        expect([baseUrl, res.status, res.json.error.code]).toEqual([
          baseUrl,
          403,
          'provider_url_not_allowed',
        ]);
      }
      const anthropic = await t.request('PUT', '/v1/gateway/providers/sneaky', {
        body: { type: 'anthropic', baseUrl: 'http://169.254.169.254' },
      });
      expect(anthropic.status).toBe(403);
      expect((await t.request('GET', '/v1/gateway/providers')).json.providers).toEqual([]);
      expect((await t.request('GET', '/v1/streams/admin/events')).text).not.toContain('sneaky');

      const ollama = await t.request('PUT', '/v1/gateway/providers/ollama', {
        body: { type: 'openai-compatible', baseUrl: 'http://localhost:11434/v1' },
      });
      expect(ollama.status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('checks the address again when connecting: a name that rebinds to a private address is not called', async () => {
    // rebind.test resolves to a public address when the provider is saved, then to this machine
    let lookups = 0;
    const resolve: ProviderNetworkOptions['resolve'] = async (hostname) => {
      if (hostname !== 'rebind.test') throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
      lookups++;
      return [{ address: lookups === 1 ? '93.184.215.14' : '127.0.0.1', family: 4 }];
    };
    const app = await start({ denyPrivate: true, resolve });
    try {
      const { t, openai } = app;
      const saved = await t.request('PUT', '/v1/gateway/providers/rebind', {
        body: { type: 'openai-compatible', baseUrl: `http://rebind.test:${port}/v1` },
      });
      expect(saved.status).toBe(200);
      const before = fake.requests.length;
      const err = (await openai.chat.completions
        .create({ model: 'rebind/m', messages: [{ role: 'user', content: 'x' }] })
        .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
      expect(err.error).toMatchObject({ code: 'provider_url_not_allowed' });
      expect(err.message).toContain('HANGAR_PROVIDER_DENY_PRIVATE');
      expect(fake.requests.length).toBe(before);
      expect(await lastCall(t)).toMatchObject({
        status: 'error',
        error: { code: 'provider_url_not_allowed' },
        attempts: [{ target: 'rebind/m', outcome: 'blocked' }], // not retried
      });

      // in a route, a refused target is passed over for the next one
      await t.request('PUT', '/v1/gateway/routes/guarded', {
        body: { targets: ['rebind/m', 'hangar/echo'] },
      });
      const res = await openai.chat.completions.create({
        model: 'guarded',
        messages: [{ role: 'user', content: 'still answered' }],
      });
      expect(res.choices[0]!.message.content).toBe('still answered');
      expect((await lastCall(t)).attempts.map((a: { outcome: string }) => a.outcome)).toEqual([
        'blocked',
        'ok',
      ]);
      expect(fake.requests.length).toBe(before);
    } finally {
      await app.close();
    }
  });

  it('connects through the guarded lookup: the same name, allowed, reaches the provider', async () => {
    // rebind.test exists only in this resolver: the call can reach the fake provider only through it
    const resolve: ProviderNetworkOptions['resolve'] = async () => [{ address: '127.0.0.1', family: 4 }];
    const app = await start({ resolve });
    try {
      const { t, openai } = app;
      await t.request('PUT', '/v1/gateway/providers/named', {
        body: { type: 'openai-compatible', baseUrl: `http://rebind.test:${port}/v1` },
      });
      const res = await openai.chat.completions.create({
        model: 'named/m',
        messages: [{ role: 'user', content: 'through the lookup' }],
      });
      expect(res.choices[0]!.message.content).toBe('fake: through the lookup');
      expect(fake.requests.at(-1)!.headers.host).toBe(`rebind.test:${port}`);
    } finally {
      await app.close();
    }
  });

  it('refuses at call time a provider saved before the operator denied private addresses', async () => {
    const app = await start({ denyPrivate: true });
    try {
      const { t, openai } = app;
      const now = new Date().toISOString();
      // as if saved by a server that allowed it
      await createGatewayStore(t.database.db).upsertProvider({
        project_id: PROJECT,
        name: 'legacy',
        type: 'openai-compatible',
        base_url: fake.openaiBaseUrl,
        key_ciphertext: null,
        config: '{}',
        created_at: now,
        updated_at: now,
      });
      const before = fake.requests.length;
      const err = (await openai.chat.completions
        .create({ model: 'legacy/m', messages: [{ role: 'user', content: 'x' }] })
        .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err.status).toBe(403);
      expect(err.error).toMatchObject({ code: 'provider_url_not_allowed' });
      expect(fake.requests.length).toBe(before);
    } finally {
      await app.close();
    }
  });
});
