import { Command } from 'commander';
import { loadConfig, startServer } from '@hangar/server';
import { CliError } from '../output.js';

export function upCommand(): Command {
  return new Command('up')
    .description('Start Hangar: the API and the web UI on one port')
    .option('-p, --port <port>', 'port to listen on (HANGAR_PORT, default 7070)')
    .option('-H, --host <host>', 'address to bind (HANGAR_HOST, default 127.0.0.1; 0.0.0.0 for all)')
    .option('-d, --data-dir <dir>', 'data directory for SQLite and blobs (HANGAR_DATA_DIR, default ./.hangar)')
    .action(async (opts: { port?: string; host?: string; dataDir?: string }) => {
      const port = opts.port === undefined ? undefined : Number(opts.port);
      if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
        throw new CliError(`--port must be a number from 0 to 65535 (got '${opts.port}').`);
      }
      let config;
      try {
        config = loadConfig(process.env, { port, host: opts.host, dataDir: opts.dataDir });
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      const running = await startServer(config).catch((err: Error) => {
        throw new CliError(`Hangar could not start: ${err.message}`);
      });
      const lines = [``, `  Hangar is running at ${running.url}`, `  data: ${running.database}`];
      if (running.createdAdminKey) {
        lines.push(
          ``,
          `  Admin API key (shown once — store it now):`,
          `    ${running.createdAdminKey}`,
          ``,
          `  Sign in to the UI with it, or: export HANGAR_API_KEY=${running.createdAdminKey}`,
        );
      }
      process.stderr.write(lines.join('\n') + '\n\n');
      const stop = (signal: string) => {
        process.stderr.write(`\n  ${signal}: finishing in-flight requests…\n`);
        running.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
}
