import { Command, CommanderError } from 'commander';
import { approvalsCommand } from './commands/approvals.js';
import { auditCommand } from './commands/audit.js';
import { evalCommand } from './commands/eval.js';
import { experimentsCommand } from './commands/experiments.js';
import { doctorCommand } from './commands/doctor.js';
import { gatewayCommand } from './commands/gateway.js';
import { keysCommand } from './commands/keys.js';
import { ledgerCommand } from './commands/ledger.js';
import { upCommand } from './commands/up.js';
import { CliError } from './output.js';

const program = new Command('hangar')
  .description('Hangar: self-hosted infrastructure for AI agents in production')
  .version('0.1.0')
  .showHelpAfterError('(run hangar --help for usage)')
  .exitOverride()
  .addCommand(upCommand())
  .addCommand(keysCommand())
  .addCommand(ledgerCommand())
  .addCommand(doctorCommand())
  .addCommand(approvalsCommand())
  .addCommand(auditCommand())
  .addCommand(evalCommand())
  .addCommand(experimentsCommand())
  .addCommand(gatewayCommand());

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  if (err instanceof CliError) {
    process.stderr.write(`hangar: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  process.stderr.write(`hangar: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
