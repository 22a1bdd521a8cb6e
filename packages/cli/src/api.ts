import type { Command } from 'commander';
import { createClient, HangarError, type HangarClient } from '@hangar/sdk';
import { DEFAULT_PORT } from '@hangar/server';
import { CliError } from './output.js';

export interface ApiFlags {
  url?: string;
  key?: string;
}

/** A client from --url/--key or HANGAR_URL/HANGAR_API_KEY, with errors that say what to do. */
export function clientFrom(flags: ApiFlags): HangarClient {
  const baseUrl = flags.url ?? process.env.HANGAR_URL ?? `http://127.0.0.1:${DEFAULT_PORT}`;
  const apiKey = flags.key ?? process.env.HANGAR_API_KEY;
  if (!apiKey) {
    throw new CliError(
      'No API key: pass --key hk_… or set HANGAR_API_KEY (the admin key was printed when Hangar first started).',
    );
  }
  return createClient({ baseUrl, apiKey });
}

/** Runs an API call and turns its failure into one line a person can act on. */
export async function call<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof HangarError) {
      if (err.code === 'network_error') throw new CliError(`${err.message}. Is it running? Start it with: hangar up`);
      const hint =
        err.code === 'invalid_key' || err.code === 'key_revoked' || err.code === 'unauthenticated'
          ? ' Check --key / HANGAR_API_KEY.'
          : err.code === 'forbidden'
            ? ' Use an admin key.'
            : '';
      throw new CliError(`${err.message}${hint} (${err.code}${err.requestId ? `, request ${err.requestId}` : ''})`);
    }
    throw err;
  }
}

/** The options of every command that talks to a server: where it is, and the key (`keyHelp` says which one). */
export function apiOptions(command: Command, keyHelp = 'an API key (HANGAR_API_KEY)'): Command {
  return command
    .option('--url <url>', `Hangar URL (HANGAR_URL, default http://127.0.0.1:${DEFAULT_PORT})`)
    .option('--key <key>', keyHelp);
}
