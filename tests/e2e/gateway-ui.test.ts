import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createClient, type HangarClient } from '@hangar/sdk';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../../packages/server/src/gateway/fake-upstream.js';
import { launchChromium, openSignedIn } from './browser.js';
import { startServer, type TestServer } from './harness.js';

// The Gateway page in real Chromium against a real `hangar up`: a provider and a route configured
// from the page reach a fake provider over a real socket, with the key the page stored.

const DIST_INDEX = fileURLToPath(new URL('../../packages/web/dist/index.html', import.meta.url));
const PROVIDER_KEY = 'sk-from-the-page-0123456789';

let server: TestServer | undefined;
let browser: Browser | undefined;
let fake: FakeUpstream | undefined;
let client: HangarClient;

beforeAll(async () => {
  if (!existsSync(DIST_INDEX))
    throw new Error(`The web UI is not built (${DIST_INDEX} is missing). Run \`npm run build -w @hangar/web\` first.`);
  await Promise.all([
    startServer({ env: { HANGAR_SECRET: 'e2e-secret-0123456789' } }).then((s) => (server = s)),
    launchChromium().then((b) => (browser = b)),
    startFakeUpstream().then((f) => (fake = f)),
  ]);
  client = createClient({ baseUrl: server!.url, apiKey: server!.adminKey });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await fake?.close();
});

const nav = (page: Page, pillar: string) =>
  page.getByRole('navigation', { name: 'Pillars' }).getByRole('link', { name: pillar, exact: true });

describe('the Gateway page', () => {
  it('configures a provider and a route that calls then reach, tries the route and links to its trace', async () => {
    const { page, pageErrors, close } = await openSignedIn(browser!, server!.url, server!.adminKey, { width: 1400, height: 1000 });
    try {
      await nav(page, 'Gateway').click();
      await page.getByRole('heading', { name: 'Gateway', level: 1 }).waitFor();
      await page.getByText('No providers yet.').waitFor();
      await page.getByText('No routes yet.').waitFor();

      // a provider, its key typed into the page
      const providerForm = page.getByRole('form', { name: 'Save provider' });
      await providerForm.getByLabel('Name').fill('up');
      await providerForm.getByLabel('Type').selectOption('openai-compatible');
      await providerForm.getByLabel('Base URL').fill(fake!.openaiBaseUrl);
      await providerForm.getByLabel('API key').fill(PROVIDER_KEY);
      await providerForm.getByRole('button', { name: 'Save provider' }).click();
      const providers = page.getByRole('table', { name: 'Providers' });
      await providers.getByRole('cell', { name: 'up', exact: true }).waitFor();
      expect(await providers.locator('tbody tr').first().innerText()).toMatch(/up\s+openai-compatible\s+http:\/\/127\.0\.0\.1:\d+\/v1\s+Stored/);
      // the key is gone from the page once saved, and the API does not give it back
      expect(await providerForm.getByLabel('API key').inputValue()).toBe('');
      expect(await page.content()).not.toContain(PROVIDER_KEY);
      expect((await client.gateway.providers.list()).providers).toEqual([expect.objectContaining({ name: 'up', hasApiKey: true })]);
      expect(JSON.stringify(await client.gateway.providers.list())).not.toContain(PROVIDER_KEY);

      // a bad target: the server's reason, nothing saved
      const routeForm = page.getByRole('form', { name: 'Save route' });
      await routeForm.getByLabel('Route name').fill('fast');
      await routeForm.getByLabel('Targets, in order').fill('nope');
      await routeForm.getByRole('button', { name: 'Save route' }).click();
      await routeForm.getByRole('alert').getByText(/provider\/model/).waitFor();
      expect((await client.gateway.routes.list()).routes).toEqual([]);

      // a route: the provider first, the offline echo as its fallback, cached for a minute
      await routeForm.getByLabel('Targets, in order').fill('up/model-one, hangar/echo');
      await routeForm.getByLabel('Cache (seconds)').fill('60');
      await routeForm.getByRole('button', { name: 'Save route' }).click();
      const routes = page.getByRole('table', { name: 'Routes' });
      await routes.getByRole('cell', { name: 'up/model-one → hangar/echo' }).waitFor();
      expect(await routes.locator('tbody tr').first().innerText()).toMatch(/fast\s+up\/model-one → hangar\/echo\s+2\s+.+\s+60 s/);
      expect((await client.gateway.routes.list()).routes).toEqual([
        expect.objectContaining({ name: 'fast', targets: ['up/model-one', 'hangar/echo'], cache: { ttlSeconds: 60 } }),
      ]);

      // try it: the fake provider answers, with the key from the page
      const tryForm = page.getByRole('form', { name: 'Try a model' });
      await tryForm.getByLabel('Model').fill('fast');
      await tryForm.getByLabel('Message').fill('hello from the page');
      await tryForm.getByRole('button', { name: 'Send' }).click();
      const answer = page.getByLabel('Answer');
      await answer.getByText('Answered by').waitFor();
      expect(await answer.innerText()).toContain('up/model-one');
      const upstreamCall = fake!.requests.at(-1)!;
      expect(upstreamCall.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
      expect(upstreamCall.body).toMatchObject({ model: 'model-one', messages: [{ role: 'user', content: 'hello from the page' }] });
      expect(await answer.locator('.message-text').innerText()).toContain('hello from the page');

      // its trace
      await answer.getByRole('link', { name: 'See its trace' }).click();
      await page.getByRole('heading', { name: 'chat model-one', level: 1 }).waitFor();
      await page.getByText('fake: hello from the page').waitFor();
      expect(page.url()).toMatch(/#\/traces\/[0-9a-f]{32}/);

      // removing the route: calls to it are refused
      await nav(page, 'Gateway').click();
      await page.getByRole('button', { name: 'Remove route fast' }).click();
      await page.getByRole('button', { name: 'Confirm removing route fast' }).click();
      await page.getByText('No routes yet.').waitFor();
      await tryForm.getByLabel('Model').fill('fast');
      await tryForm.getByRole('button', { name: 'Send' }).click();
      await tryForm.getByRole('alert').getByText(/fast/).waitFor();
      expect(pageErrors).toEqual([]);
    } finally {
      await close();
    }
  });

  it('shows a read-only key the configuration, without the forms or the model box', async () => {
    const { key } = await client.keys.create({ name: 'viewer', role: 'read-only' });
    const { page, close } = await openSignedIn(browser!, server!.url, key);
    try {
      await nav(page, 'Gateway').click();
      await page.getByRole('table', { name: 'Providers' }).getByRole('cell', { name: 'up', exact: true }).waitFor();
      expect(await page.getByRole('form', { name: 'Save provider' }).count()).toBe(0);
      expect(await page.getByRole('form', { name: 'Save route' }).count()).toBe(0);
      expect(await page.getByRole('form', { name: 'Try a model' }).count()).toBe(0);
      expect(await page.getByRole('button', { name: /^Remove/ }).count()).toBe(0);
    } finally {
      await close();
    }
  });
});
