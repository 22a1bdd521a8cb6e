import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import type { AppEnv } from '../http/app-env.js';

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Hangar</title>
<body style="font-family:system-ui;max-width:40rem;margin:4rem auto">
<h1>Hangar is running</h1><p>The API is up, but the web UI has not been built.
Run <code>npm run build --workspace @hangar/web</code> (npm install does this for you) and reload.</p>`;

/** The built web UI: static files, and index.html for any other GET so client-side routes work. */
export function webRoutes(webDir: string | null) {
  const app = new Hono<AppEnv>();
  const indexFile = webDir ? path.join(webDir, 'index.html') : null;
  if (!webDir || !indexFile || !existsSync(indexFile)) {
    return app.get('*', (c) => c.html(NOT_BUILT));
  }
  const index = readFileSync(indexFile, 'utf8');
  const relative = path.relative(process.cwd(), webDir) || '.';
  app.use('/assets/*', serveStatic({ root: relative }));
  app.use('*', serveStatic({ root: relative }));
  return app.get('*', (c) => c.html(index));
}
