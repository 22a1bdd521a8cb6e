import { createWriteStream } from 'node:fs';
import { Command } from 'commander';
import type { JournalEvent } from '@hangar/protocol';
import { apiOptions, call, clientFrom, type ApiFlags } from '../api.js';
import { CliError, printJson } from '../output.js';

const withApi = (command: Command): Command => apiOptions(command, 'an API key with read permission (HANGAR_API_KEY)');

export function auditCommand(): Command {
  const audit = new Command('audit').description('Check and export the tamper-evident journal');

  withApi(audit.command('verify').description('Recompute every hash chain; report the first broken link of each stream (exit 1 if any)'))
    .option('-s, --stream <stream>', 'only this stream')
    .option('--json', 'print JSON')
    .action(async (opts: ApiFlags & { stream?: string; json?: boolean }) => {
      const report = await call(() => clientFrom(opts).journal.verify(opts.stream));
      if (opts.json) printJson(report);
      else if (report.ok) console.log(`OK: ${report.events} events in ${report.streams} streams; every hash chain is intact.`);
      else {
        console.log(`BROKEN: ${report.broken.length} of ${report.streams} streams have a broken link (${report.events} events checked).`);
        for (const b of report.broken) console.log(`  ${b.stream}: first broken at seq ${b.seq} (${b.reason})`);
      }
      if (!report.ok) throw new CliError('the journal does not verify: it was changed outside Hangar', 1);
    });

  withApi(audit.command('export').description('Write journal events as JSON Lines (one event per line, in stream order)'))
    .option('-s, --stream <prefix>', 'only streams starting with this (e.g. actions:, approvals, identity:)')
    .option('-t, --type <type>', 'only events of this type, or types starting with it when it ends in "." (e.g. approval.)')
    .option('--since <time>', 'only events at or after this RFC 3339 time')
    .option('--until <time>', 'only events before this RFC 3339 time')
    .option('-o, --out <file>', 'write to this file instead of standard output')
    .action(async (opts: ApiFlags & { stream?: string; type?: string; since?: string; until?: string; out?: string }) => {
      for (const t of [opts.since, opts.until]) if (t !== undefined && Number.isNaN(Date.parse(t))) throw new CliError(`'${t}' is not an RFC 3339 time.`);
      const since = opts.since ? new Date(opts.since).toISOString() : undefined;
      const until = opts.until ? new Date(opts.until).toISOString() : undefined;
      const matches = (e: JournalEvent) =>
        (!opts.type || (opts.type.endsWith('.') ? e.type.startsWith(opts.type) : e.type === opts.type)) &&
        (!since || e.time >= since) &&
        (!until || e.time < until);
      const client = clientFrom(opts);
      const out: NodeJS.WritableStream = opts.out ? createWriteStream(opts.out) : process.stdout;
      let written = 0;
      let cursor: string | undefined;
      do {
        const page = await call(() => client.journal.streams({ prefix: opts.stream, cursor, limit: 1000 }));
        for (const { stream } of page.streams) {
          let afterSeq = 0;
          for (;;) {
            const events = await call(() => client.journal.read(stream, { afterSeq, limit: 1000 }));
            for (const e of events.events) {
              if (!matches(e)) continue;
              if (!out.write(JSON.stringify(e) + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
              written++;
            }
            if (events.nextAfterSeq === null) break;
            afterSeq = events.nextAfterSeq;
          }
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      if (opts.out) {
        await new Promise<void>((resolve) => out.end(() => resolve()));
        console.error(`Wrote ${written} events to ${opts.out}.`);
      }
    });

  return audit;
}
