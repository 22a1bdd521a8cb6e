import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream } from '../../packages/server/src/gateway/fake-upstream.js';
import { startServer, type TestServer } from './harness.js';

const HANGAR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../packages/cli/bin/hangar.js');

async function hangar(args: string[], env: Record<string, string> = {}, input = '') {
  try {
    const run = promisify(execFile)(process.execPath, [HANGAR, ...args], {
      env: { ...process.env, HANGAR_URL: '', HANGAR_API_KEY: '', ...env },
    });
    run.child.stdin?.end(input);
    const { stdout, stderr } = await run;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('hangar CLI', () => {
  let server: TestServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    server = await startServer();
    env = { HANGAR_URL: server.url, HANGAR_API_KEY: server.adminKey };
  });
  afterAll(async () => {
    await server.stop();
  });

  it('creates, lists (--json) and revokes keys', async () => {
    const created = await hangar(['keys', 'create', '--name', 'ci-bot', '--role', 'read-only', '--json'], env);
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout) as { id: string; key: string; role: string };
    expect(key.role).toBe('read-only');
    expect(key.key).toMatch(/^hk_/);

    const listed = await hangar(['keys', 'list', '--json'], env);
    expect(JSON.parse(listed.stdout).map((k: { id: string }) => k.id)).toContain(key.id);
    expect(listed.stdout).not.toContain(key.key);

    const table = await hangar(['keys', 'list'], env);
    expect(table.stdout).toMatch(/ID\s+NAME\s+ROLE/);
    expect(table.stdout).toContain('ci-bot');

    expect((await hangar(['keys', 'revoke', key.id], env)).stdout).toContain(`Revoked ${key.id}`);
    const refused = await hangar(['keys', 'list'], { ...env, HANGAR_API_KEY: key.key });
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/^hangar: .*revoked.*key_revoked/);
  });

  it('fails with one line saying what to do', async () => {
    const noKey = await hangar(['keys', 'list'], { HANGAR_URL: server.url });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/^hangar: No API key: pass --key/);

    const down = await hangar(['keys', 'list', '--url', 'http://127.0.0.1:9'], env);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/Cannot reach Hangar .* Start it with: hangar up/);

    const badRole = await hangar(['keys', 'create', '--name', 'x', '--role', 'root'], env);
    expect(badRole.code).not.toBe(0);
    expect(badRole.stderr).toContain('Allowed choices are admin, member, read-only, ingest-only');
  });

  it('configures the gateway: a provider keyed from the environment, a route with a fallback, calls through it', async () => {
    const fake = await startFakeUpstream();
    // storing a provider key needs HANGAR_SECRET, which the shared server does not have
    const gateway = await startServer({ env: { HANGAR_SECRET: 'e2e-secret-0123456789' } });
    try {
      const genv = { HANGAR_URL: gateway.url, HANGAR_API_KEY: gateway.adminKey };
      const set = await hangar(
        ['gateway', 'providers', 'set', 'up', '--type', 'openai-compatible', '--base-url', fake.openaiBaseUrl, '--api-key-env', 'UPSTREAM_KEY', '--header', 'X-Team: evals'],
        { ...genv, UPSTREAM_KEY: 'sk-upstream-from-env' },
      );
      expect(set.stderr).toBe('');
      expect(set.stdout).toMatch(/^up\s+openai-compatible\s+\S+\s+stored\s+X-Team$/m);

      const providers = await hangar(['gateway', 'providers', '--json'], genv);
      expect(providers.stdout).not.toContain('sk-upstream-from-env');
      expect(JSON.parse(providers.stdout)).toEqual([
        expect.objectContaining({ name: 'up', type: 'openai-compatible', baseUrl: fake.openaiBaseUrl, hasApiKey: true, headerNames: ['X-Team'] }),
      ]);

      const route = await hangar(
        ['gateway', 'routes', 'set', 'smart', '--target', 'up/model-a', '--target', 'up/model-b', '--retries', '0', '--cache-ttl', '60', '--json'],
        genv,
      );
      expect(JSON.parse(route.stdout)).toMatchObject({ name: 'smart', targets: ['up/model-a', 'up/model-b'], retry: { maxRetries: 0 }, cache: { ttlSeconds: 60 } });
      expect(JSON.parse((await hangar(['gateway', 'routes', '--json'], genv)).stdout)).toEqual([JSON.parse(route.stdout)]);
      const table = await hangar(['gateway', 'routes'], genv);
      expect(table.stdout).toMatch(/NAME\s+TARGETS\s+RETRIES\s+TIMEOUTS\s+CACHE/);
      expect(table.stdout).toMatch(/smart\s+up\/model-a → up\/model-b\s+0\s+60s per try, 120s total\s+60s/);

      // the primary fails, the fallback answers: the targets kept their order, the key came from UPSTREAM_KEY
      fake.queue({ status: 500 });
      const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: gateway.adminKey, maxRetries: 0 });
      const answer = await openai.chat.completions.create({ model: 'smart', messages: [{ role: 'user', content: 'hello' }] });
      expect(answer.choices[0]?.message.content).toBe('fake: hello');
      expect(fake.requests.map((r) => r.body.model)).toEqual(['model-a', 'model-b']);
      expect(fake.requests[1]?.headers).toMatchObject({ authorization: 'Bearer sk-upstream-from-env', 'x-team': 'evals' });

      // a new key through stdin replaces the stored one
      const rotated = await hangar(
        ['gateway', 'providers', 'set', 'up', '--type', 'openai-compatible', '--base-url', fake.openaiBaseUrl, '--api-key-stdin'],
        genv,
        'sk-rotated\n',
      );
      expect(rotated.code).toBe(0);
      await openai.chat.completions.create({ model: 'up/model-c', messages: [{ role: 'user', content: 'again' }] });
      expect(fake.requests.at(-1)?.headers.authorization).toBe('Bearer sk-rotated');

      expect((await hangar(['gateway', 'routes', 'remove', 'smart'], genv)).stdout).toContain("Removed route 'smart'");
      const gone = await openai.chat.completions.create({ model: 'smart', messages: [{ role: 'user', content: 'hello' }] }).catch((e: unknown) => e);
      expect(gone).toBeInstanceOf(OpenAI.APIError);
      expect(gone).toMatchObject({ status: 404, code: 'model_not_found' });

      const bad = await hangar(['gateway', 'routes', 'set', 'broken', '--target', 'nope'], genv);
      expect(bad.code).toBe(1);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
      expect(bad.stderr).toMatch(/^hangar: json\.targets\.0: provider\/model, e\.g\. openai\/gpt-4o-mini \(validation_failed/);

      const missing = await hangar(['gateway', 'providers', 'set', 'other', '--type', 'openai', '--api-key-env', 'MISSING_VAR'], genv);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/^hangar: --api-key-env: MISSING_VAR is not set/);
      expect(JSON.parse((await hangar(['gateway', 'providers', '--json'], genv)).stdout)).toHaveLength(1);
    } finally {
      await gateway.stop();
      await fake.close();
    }
  }, 120_000); // a server of its own and a dozen CLI runs, each starting Node and tsx

  it('doctor reports each check, and a taken port as a failure', async () => {
    const port = new URL(server.url).port;
    const result = await hangar(['doctor', '--json', '--port', port, '--data-dir', server.dataDir]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { ok: boolean; checks: Array<{ name: string; ok: boolean }> };
    expect(Object.fromEntries(report.checks.map((c) => [c.name, c.ok]))).toEqual({
      node: true,
      'data-dir': true,
      database: true,
      migrations: true,
      port: false,
    });
  });

  it('up refuses a port in use with a clear message', async () => {
    const port = new URL(server.url).port;
    const result = await hangar(['up', '--port', port, '--data-dir', server.dataDir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Port \d+ on 127.0.0.1 is in use: pass --port/);
  });
});
