import { Command } from 'commander';
import { apiOptions, call, clientFrom, type ApiFlags } from '../api.js';
import { CliError, printJson, printTable } from '../output.js';

const withApi = (command: Command): Command => apiOptions(command);

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

  withApi(ledger.command('reconcile').description("Compare Hangar's costs with providers' and the ledger with each payment rail's statement; exit 1 on any difference"))
    .option('--from <time>', 'start of the window (ISO 8601; default 24 hours before --to)')
    .option('--to <time>', 'end of the window (ISO 8601; default now)')
    .option('--json', 'print JSON')
    .action(async (opts: ApiFlags & { from?: string; to?: string; json?: boolean }) => {
      const window = { ...(opts.from ? { from: opts.from } : {}), ...(opts.to ? { to: opts.to } : {}) };
      const report = await call(() => clientFrom(opts).ledger.reconcile(window));
      if (opts.json) printJson(report);
      else {
        console.log(`Reconciliation ${report.from} → ${report.to}`);
        printTable(
          report.providers.map((p) => ({ ...p, hangar: amount(p.hangarMicrosOfReported), reported: amount(p.providerMicros), difference: amount(p.differenceMicros) })),
          ['provider', 'calls', 'reportedCalls', 'hangar', 'reported', 'difference'],
        );
        printTable(
          report.rails.map((r) => ({ ...r, ledger: amount(r.ledgerMicros), statement: amount(r.railMicros), difference: amount(r.differenceMicros) })),
          ['rail', 'payments', 'statementEntries', 'ledger', 'statement', 'difference'],
        );
        if (report.ok) console.log('No differences.');
        else printTable(report.differences, ['kind', 'source', 'paymentId', 'railRef', 'spanId', 'hangarMicros', 'externalMicros']);
      }
      if (!report.ok) throw new CliError(`reconciliation found ${report.differences.length} difference(s)`);
    });

  return ledger;
}
