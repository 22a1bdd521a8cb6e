import { Command, Option } from 'commander';
import { ROLES } from '@hangar/protocol';
import { generateApiKey } from '@hangar/server';
import { apiOptions, call, clientFrom, type ApiFlags } from '../api.js';
import { printJson, printTable } from '../output.js';

const withApi = (command: Command): Command => apiOptions(command, 'an admin API key (HANGAR_API_KEY)');

export function keysCommand(): Command {
  const keys = new Command('keys').description("Manage the project's API keys");

  withApi(keys.command('list').description('List API keys (never their secrets)'))
    .option('--json', 'print JSON')
    .action(async (opts: ApiFlags & { json?: boolean }) => {
      const { keys: list } = await call(() => clientFrom(opts).keys.list());
      if (opts.json) return printJson(list);
      printTable(
        list.map((k) => ({ ...k, status: k.revokedAt ? 'revoked' : 'active' })),
        ['id', 'name', 'role', 'prefix', 'status', 'createdAt', 'lastUsedAt'],
      );
    });

  withApi(keys.command('create').description('Create an API key and print its secret once'))
    .requiredOption('-n, --name <name>', 'a name saying who or what uses the key')
    .addOption(new Option('-r, --role <role>', 'what the key may do').choices(ROLES).default('member'))
    .option('--json', 'print JSON')
    .action(async (opts: ApiFlags & { name: string; role: (typeof ROLES)[number]; json?: boolean }) => {
      const created = await call(() => clientFrom(opts).keys.create({ name: opts.name, role: opts.role }));
      if (opts.json) return printJson(created);
      console.log(`Created ${created.role} key '${created.name}' (${created.id}). Its secret, shown once:\n\n  ${created.key}\n`);
    });

  withApi(keys.command('revoke').description('Revoke an API key; its next request fails'))
    .argument('<id>', 'the key id (key_…), from hangar keys list')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: ApiFlags & { json?: boolean }) => {
      const revoked = await call(() => clientFrom(opts).keys.revoke(id));
      if (opts.json) return printJson(revoked);
      console.log(`Revoked ${revoked.id} ('${revoked.name}') at ${revoked.revokedAt}.`);
    });

  keys
    .command('generate')
    .description('Print a new random key, e.g. for HANGAR_ADMIN_KEY (nothing is stored)')
    .action(() => console.log(generateApiKey()));

  return keys;
}
