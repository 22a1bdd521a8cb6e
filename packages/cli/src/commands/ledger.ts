import { Command } from 'commander';
import { call, clientFrom, type ApiFlags } from '../api.js';
import { CliError, printJson, printTable } from '../output.js';

function withApi(command: Command): Command {
  return command
    .option('--url <url>', 'Hangar URL (HANGAR_URL, default http://127.0.0.1:7070)')
    .option('--key <key>', 'an API key (HANGAR_API_KEY)');
}

/** Micro-units as a decimal amount: 1234567 → "1.234567". */
function amount(micros: number): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(micros);
  return `${sign}${Math.floor(abs / 1_000_000)}.${String(abs % 1_000_000).padStart(6, '0')}`;
}

export function ledgerCommand(): Command {
  const ledger = new Command('ledger').description("Inspect and verify the project's ledger");

  withApi(ledger.command('verify').description('Recompute every balance from the transfers; exit 1 on any problem'))
    .option('--json', 'print JSON')
    .action(async (opts: ApiFlags & { json?: boolean }) => {
      const report = await call(() => clientFrom(opts).ledger.verify());
      if (opts.json) printJson(report);
      else if (report.ok) {
        console.log(`Ledger verified: ${report.accounts} accounts, ${report.transfers} transfers, ${report.openHolds} open holds; every balance matches its transfers.`);
      } else {
        printTable(report.problems, ['reason', 'accountId', 'transferId', 'field', 'expected', 'actual']);
      }
      if (!report.ok) throw new CliError(`ledger verification found ${report.problems.length} problem(s)`);
    });

  withApi(ledger.command('accounts').description('List accounts with their balances'))
    .option('--kind <kind>', 'only accounts of this kind')
    .option('--json', 'print JSON')
    .action(async (opts: ApiFlags & { kind?: string; json?: boolean }) => {
      const { accounts } = await call(() => clientFrom(opts).ledger.accounts({ kind: opts.kind, limit: 1000 }));
      if (opts.json) return printJson(accounts);
      printTable(
        accounts.map((a) => ({ ...a, balance: amount(a.balanceMicros), available: amount(a.availableMicros), pending: amount(a.debitsPendingMicros) })),
        ['id', 'kind', 'code', 'currency', 'balance', 'available', 'pending'],
      );
    });

  return ledger;
}
