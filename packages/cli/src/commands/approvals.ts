import { Command, Option } from 'commander';
import { APPROVAL_STATUSES, type Approval } from '@hangar/protocol';
import { apiOptions, call, clientFrom, type ApiFlags } from '../api.js';
import { printJson, printTable } from '../output.js';

const withApi = (command: Command): Command => apiOptions(command, 'an API key (HANGAR_API_KEY); deciding needs a member or admin key');

function who(a: Approval): string {
  return a.actor.principals.map((p) => `${p.type}:${p.id}`).join(' → ');
}

export function approvalsCommand(): Command {
  const approvals = new Command('approvals').description('Decide on actions that policy allows only once approved');

  withApi(approvals.command('list').description('List approval requests (pending by default)'))
    .addOption(new Option('-s, --status <status>', 'which requests').choices([...APPROVAL_STATUSES, 'all']).default('pending'))
    .option('--json', 'print JSON')
    .action(async (opts: ApiFlags & { status: string; json?: boolean }) => {
      const status = opts.status === 'all' ? undefined : (opts.status as Approval['status']);
      const { approvals: list } = await call(() => clientFrom(opts).approvals.list(status));
      if (opts.json) return printJson(list);
      printTable(
        list.map((a) => ({ ...a, who: who(a), action: `${a.kind} ${a.resource}`, cost: a.costMicros === null ? null : `${a.costMicros / 1e6} USD` })),
        ['id', 'status', 'action', 'who', 'cost', 'requestedAt', 'reason'],
      );
    });

  for (const verb of ['approve', 'deny'] as const) {
    withApi(approvals.command(verb).description(verb === 'approve' ? 'Approve a pending request (usable once, for exactly that action)' : 'Deny a pending request'))
      .argument('<id>', 'the request id (apr_…), from hangar approvals list')
      .option('-n, --note <note>', 'why, for the record')
      .option('--json', 'print JSON')
      .action(async (id: string, opts: ApiFlags & { note?: string; json?: boolean }) => {
        const client = clientFrom(opts);
        const decided = await call(() => (verb === 'approve' ? client.approvals.approve(id, opts.note) : client.approvals.deny(id, opts.note)));
        if (opts.json) return printJson(decided);
        console.log(`${verb === 'approve' ? 'Approved' : 'Denied'} ${decided.id}: ${decided.kind} ${decided.resource} for ${who(decided)}.`);
        if (decided.validUntil && verb === 'approve') console.log(`The approval can be used once until ${decided.validUntil}.`);
      });
  }
  return approvals;
}
