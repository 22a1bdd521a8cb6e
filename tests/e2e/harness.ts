import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HANGAR_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../packages/cli/bin/hangar.js');

/** A well-formed admin key for tests (HANGAR_ADMIN_KEY). */
export const TEST_ADMIN_KEY = 'hk_' + 'T'.repeat(16) + 'e2eAdminKey00000'.slice(0, 16);

export interface TestServer {
  url: string;
  adminKey: string;
  dataDir: string;
  process: ChildProcess;
  /** Everything the server wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM and wait for exit (graceful shutdown); removes the data dir unless keepData. */
  stop(options?: { keepData?: boolean }): Promise<number | null>;
  /** Send a signal (e.g. SIGKILL) and wait for the process to exit. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
  /** Reuse a data dir (e.g. to restart after a crash). */
  dataDir?: string;
  args?: string[];
}

/** Starts `hangar up` as a real child process on a free port with a fresh data dir. */
export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'hangar-e2e-'));
  const child = spawn(process.execPath, [HANGAR_BIN, 'up', '--port', '0', '--data-dir', dataDir, ...(options.args ?? [])], {
    env: {
      ...process.env,
      HANGAR_ADMIN_KEY: TEST_ADMIN_KEY,
      HANGAR_LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hangar up did not start in 60 s:\n${output}`)), 60_000);
    const onData = () => {
      const match = /running at (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`hangar up exited with ${code}:\n${output}`));
    });
  });

  return {
    url,
    adminKey: options.env?.HANGAR_ADMIN_KEY ?? TEST_ADMIN_KEY,
    dataDir,
    process: child,
    output: () => output,
    async stop({ keepData = false } = {}) {
      if (!child.killed && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const code = await exited;
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
    async kill(signal) {
      child.kill(signal);
      await exited;
    },
  };
}
