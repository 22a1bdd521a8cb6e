import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Debian's Chromium, headless. Never a downloaded browser; without the background-networking flags
 * Chromium keeps trying hosts this machine cannot reach.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** A fresh profile (empty localStorage) at `url` that collects uncaught page errors for the test to check. */
export async function openPage(
  browser: Browser,
  url: string,
  viewport = { width: 1280, height: 800 },
): Promise<{ page: Page; context: BrowserContext; pageErrors: Error[]; close: () => Promise<void> }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(5_000);
  // loading the app itself (a 400 kB bundle) can take longer than 5 s on a busy shared machine
  page.setDefaultNavigationTimeout(30_000);
  const pageErrors: Error[] = [];
  page.on('pageerror', (error) => pageErrors.push(error));
  await page.goto(url);
  return { page, context, pageErrors, close: () => context.close() };
}

/** `openPage`, then sign in with `key` and wait until the app shows it is signed in. */
export async function openSignedIn(
  browser: Browser,
  url: string,
  key: string,
  viewport?: { width: number; height: number },
): Promise<{ page: Page; context: BrowserContext; pageErrors: Error[]; close: () => Promise<void> }> {
  const opened = await openPage(browser, url, viewport);
  await opened.page.getByLabel('API key', { exact: true }).fill(key);
  await opened.page.getByRole('button', { name: 'Sign in' }).click();
  await opened.page.getByRole('button', { name: 'Sign out' }).waitFor();
  return opened;
}
