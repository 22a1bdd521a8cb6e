import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './harness.js';

const HANGAR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../packages/cli/bin/hangar.js');

async function hangar(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [HANGAR, ...args], {
      env: { ...process.env, HANGAR_URL: '', HANGAR_API_KEY: '', ...env },
    });
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
