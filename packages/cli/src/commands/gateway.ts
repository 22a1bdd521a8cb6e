import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { PROVIDER_TYPES, type Provider, type ProviderType, type PutProviderRequest, type PutRouteRequest, type Route } from '@hangar/protocol';
import { apiOptions, call, clientFrom, type ApiFlags } from '../api.js';
import { CliError, printJson, printTable } from '../output.js';

const withApi = (command: Command): Command => apiOptions(command, 'an API key (HANGAR_API_KEY); changes need an admin key');

// Repeatable options start undefined rather than [], so that commander still enforces a mandatory one.
const repeat = (value: string, all: string[] | undefined) => [...(all ?? []), value];

/** `Name: value` → [name, value]; commander reports a malformed one as an invalid argument. */
function header(value: string, all: Array<[string, string]> | undefined): Array<[string, string]> {
  const colon = value.indexOf(':');
  if (colon < 1) throw new InvalidArgumentError("expected 'Name: value'");
  return [...(all ?? []), [value.slice(0, colon).trim(), value.slice(colon + 1).trim()]];
}

/** Only turns the text into a number: ranges are the server's to check, so its message is the one users see. */
function number(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('not a number');
  return n;
}

/** 60000 → "60s", 1500 → "1500ms". */
const duration = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

const providerRow = (p: Provider) => ({
  ...p,
  key: p.hasApiKey ? 'stored' : 'none',
  headers: p.headerNames.length ? p.headerNames.join(', ') : null,
});
const PROVIDER_COLUMNS = ['name', 'type', 'baseUrl', 'key', 'headers'];

const routeRow = (r: Route) => ({
  ...r,
  targets: r.targets.join(' → '),
  retries: r.retry.maxRetries,
  timeouts: `${duration(r.timeouts.perTryMs)} per try, ${duration(r.timeouts.totalMs)} total`,
  cache: r.cache ? `${r.cache.ttlSeconds}s` : 'off',
});
const ROUTE_COLUMNS = ['name', 'targets', 'retries', 'timeouts', 'cache'];

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Paste the API key, then press Enter and Ctrl-D:\n');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

interface ProviderSetFlags extends ApiFlags {
  json?: boolean;
  type: ProviderType;
  baseUrl?: string;
  apiKeyEnv?: string;
  apiKeyStdin?: boolean;
  removeApiKey?: boolean;
  header?: Array<[string, string]>;
  script?: string;
}

/** The key to send: a string to store, null to remove the stored one, undefined to keep it. Never from argv. */
async function apiKeyFrom(opts: ProviderSetFlags): Promise<string | null | undefined> {
  if (opts.removeApiKey) return null;
  if (opts.apiKeyEnv !== undefined) {
    const key = process.env[opts.apiKeyEnv];
    if (!key) throw new CliError(`--api-key-env: ${opts.apiKeyEnv} is not set (or is empty); set it to the provider's API key (export ${opts.apiKeyEnv}=…) and run this again.`);
    return key;
  }
  if (opts.apiKeyStdin) {
    const key = (await readStdin()).trim();
    if (!key) throw new CliError('--api-key-stdin: nothing on stdin; pipe the API key in, e.g. pass show openai | hangar gateway providers set …');
    return key;
  }
  return undefined;
}

function scriptFrom(file: string): NonNullable<PutProviderRequest['script']> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`--script: cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as NonNullable<PutProviderRequest['script']>;
  } catch (e) {
    throw new CliError(`--script: ${file} is not JSON: ${(e as Error).message}`);
  }
}

function providersCommand(): Command {
  const providers = new Command('providers').description("The gateway's providers: where calls go, with which key");

  withApi(providers.command('list', { isDefault: true }).description('List providers (the default; never their keys or header values)'))
    .option('--json', 'print JSON')
    .action(async (opts: ApiFlags & { json?: boolean }) => {
      const { providers: list } = await call(() => clientFrom(opts).gateway.providers.list());
      if (opts.json) return printJson(list);
      printTable(list.map(providerRow), PROVIDER_COLUMNS);
    });

  withApi(providers.command('set').description('Create or replace a provider; its API key is kept unless you pass a new one or --remove-api-key'))
    .argument('<name>', 'the provider name, used in route targets as <name>/<model>')
    .addOption(new Option('--type <type>', 'the kind of provider').choices(PROVIDER_TYPES).makeOptionMandatory())
    .option('--base-url <url>', 'where to send calls (required for openai-compatible, e.g. http://127.0.0.1:11434/v1)')
    .option('--api-key-env <var>', 'read the API key from this environment variable')
    .addOption(new Option('--api-key-stdin', 'read the API key from stdin').conflicts('apiKeyEnv'))
    .addOption(new Option('--remove-api-key', 'remove the stored API key').conflicts(['apiKeyEnv', 'apiKeyStdin']))
    .option('--header <header>', "an extra header sent upstream, 'Name: value' (repeatable)", header)
    .option('--script <file>', 'a JSON fixture of rules and replies (for --type scripted)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
The API key is never an argument (arguments show in ps and shell history): name an environment
variable with --api-key-env, or pipe the key in with --api-key-stdin. It is stored encrypted (the
server needs HANGAR_SECRET) and never shown again: lists say only whether a key is stored. Without
--api-key-env, --api-key-stdin or --remove-api-key the stored key is kept; everything else is
replaced by what this command says. Header values are arguments too: keep secrets out of them.

Examples:
  export OPENAI_API_KEY=sk-…
  hangar gateway providers set openai --type openai --api-key-env OPENAI_API_KEY
  pass show openrouter | hangar gateway providers set openrouter --type openai-compatible \\
    --base-url https://openrouter.ai/api/v1 --api-key-stdin --header 'HTTP-Referer: https://example.com'
  hangar gateway providers set ollama --type openai-compatible --base-url http://127.0.0.1:11434/v1
  hangar gateway providers set canned --type scripted --script fixtures/canned.json`,
    )
    .action(async (name: string, opts: ProviderSetFlags) => {
      const apiKey = await apiKeyFrom(opts);
      const request: PutProviderRequest = {
        type: opts.type,
        ...(opts.baseUrl !== undefined ? { baseUrl: opts.baseUrl } : {}),
        ...(apiKey !== undefined ? { apiKey } : {}),
        ...(opts.header ? { headers: Object.fromEntries(opts.header) } : {}),
        ...(opts.script !== undefined ? { script: scriptFrom(opts.script) } : {}),
      };
      const provider = await call(() => clientFrom(opts).gateway.providers.put(name, request));
      if (opts.json) return printJson(provider);
      printTable([providerRow(provider)], PROVIDER_COLUMNS);
    });

  withApi(providers.command('remove').description('Remove a provider and its stored key'))
    .argument('<name>', 'the provider name')
    .action(async (name: string, opts: ApiFlags) => {
      await call(() => clientFrom(opts).gateway.providers.remove(name));
      console.log(`Removed provider '${name}'.`);
    });

  return providers;
}

interface RouteSetFlags extends ApiFlags {
  json?: boolean;
  target: string[];
  retries?: number;
  perTryMs?: number;
  totalMs?: number;
  cacheTtl?: number;
}

function routesCommand(): Command {
  const routes = new Command('routes').description('Routes: model names clients send, each tried on its targets in order');

  withApi(routes.command('list', { isDefault: true }).description('List routes (the default)'))
    .option('--json', 'print JSON')
    .action(async (opts: ApiFlags & { json?: boolean }) => {
      const { routes: list } = await call(() => clientFrom(opts).gateway.routes.list());
      if (opts.json) return printJson(list);
      printTable(list.map(routeRow), ROUTE_COLUMNS);
    });

  withApi(routes.command('set').description('Create or replace a route; options left out take their defaults'))
    .argument('<name>', 'the route name: clients send it as the model')
    .requiredOption('--target <provider/model>', 'a target, e.g. openai/gpt-4o-mini (repeatable: the first is the primary, the rest fallbacks in order)', repeat)
    .option('--retries <n>', 'retries of each target before falling back (server default 2)', number)
    .option('--per-try-ms <ms>', 'timeout of each attempt, and the longest pause between streamed chunks (server default 60000)', number)
    .option('--total-ms <ms>', 'timeout until the first byte, across all attempts and fallbacks (server default 120000)', number)
    .option('--cache-ttl <seconds>', 'answer an identical request from the journal while younger than this (default off)', number)
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Examples:
  hangar gateway routes set fast --target openai/gpt-4o-mini --target anthropic/claude-haiku-4-5
  hangar gateway routes set local --target ollama/llama3.2 --retries 0 --per-try-ms 20000 --cache-ttl 3600`,
    )
    .action(async (name: string, opts: RouteSetFlags) => {
      const request: PutRouteRequest = {
        targets: opts.target,
        ...(opts.retries !== undefined ? { retry: { maxRetries: opts.retries } } : {}),
        ...(opts.perTryMs !== undefined || opts.totalMs !== undefined
          ? { timeouts: { ...(opts.perTryMs !== undefined ? { perTryMs: opts.perTryMs } : {}), ...(opts.totalMs !== undefined ? { totalMs: opts.totalMs } : {}) } }
          : {}),
        ...(opts.cacheTtl !== undefined ? { cache: { ttlSeconds: opts.cacheTtl } } : {}),
      };
      const route = await call(() => clientFrom(opts).gateway.routes.put(name, request));
      if (opts.json) return printJson(route);
      printTable([routeRow(route)], ROUTE_COLUMNS);
    });

  withApi(routes.command('remove').description('Remove a route; calls naming it then fail with model_not_found'))
    .argument('<name>', 'the route name')
    .action(async (name: string, opts: ApiFlags) => {
      await call(() => clientFrom(opts).gateway.routes.remove(name));
      console.log(`Removed route '${name}'.`);
    });

  return routes;
}

export function gatewayCommand(): Command {
  return new Command('gateway')
    .description("Configure the model gateway: providers (with their keys) and routes (model names with fallbacks)")
    .addHelpText(
      'after',
      `
Clients call the gateway with the OpenAI or Anthropic SDK (base URL <hangar>/v1, a Hangar key), naming a
route or provider/model as the model.

Examples:
  hangar gateway providers                       list providers (--json for JSON)
  hangar gateway providers set openai --type openai --api-key-env OPENAI_API_KEY
  hangar gateway providers remove openai
  hangar gateway routes                          list routes
  hangar gateway routes set fast --target openai/gpt-4o-mini --target anthropic/claude-haiku-4-5 --cache-ttl 300
  hangar gateway routes remove fast

See hangar gateway providers set --help for how API keys are read (never from arguments).`,
    )
    .addCommand(providersCommand())
    .addCommand(routesCommand());
}
