import type {
  Payment,
  ProviderReconciliation,
  RailReconciliation,
  ReconciliationDifference,
  ReconciliationReport,
} from '@hangar/protocol';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { ApiError } from '../http/api-error.js';
import type { Ledger } from '../ledger/ledger-service.js';
import type { PaymentRail, RailStatementEntry } from '../payments/payment-rail.js';
import type { Payments } from '../payments/payments-service.js';
import { createReconciliationStore } from './reconciliation-store.js';

export interface ReconciliationOptions {
  db: Kysely<Database>;
  ledger: Ledger;
  payments: Payments;
  rails: PaymentRail[];
}

/** Most differences listed per provider or rail. */
const MAX_LISTED = 1000;
const UNSETTLED = new Set<Payment['status']>(['authorizing', 'authorized', 'settling']);

/**
 * Reconciliation: Hangar's books against the outside world's, over a window. Per provider, the cost
 * Hangar priced and settled for each gateway call against the cost the provider reported for it (where
 * it reports one). Per rail, the net the ledger posted to payees for each payment against the rail's
 * statement. Every difference is listed with the ids to look it up by.
 */
export function createReconciliation(options: ReconciliationOptions) {
  const { ledger, payments } = options;
  const store = createReconciliationStore(options.db);

  async function providers(projectId: string, from: string, to: string) {
    const summaries: ProviderReconciliation[] = [];
    const differences: ReconciliationDifference[] = [];
    for (const r of await store.providerSums(projectId, from, to)) {
      const providerMicros = Number(r.provider_cost ?? 0);
      const hangarOfReported = Number(r.hangar_of_reported ?? 0);
      summaries.push({
        provider: r.provider,
        calls: Number(r.calls),
        hangarMicros: Number(r.hangar ?? 0),
        reportedCalls: Number(r.reported_calls),
        providerMicros,
        hangarMicrosOfReported: hangarOfReported,
        differenceMicros: hangarOfReported - providerMicros,
      });
    }
    for (const d of await store.costDifferences(projectId, from, to, MAX_LISTED)) {
      const hangar = d.cost_micros === null ? null : Number(d.cost_micros);
      differences.push({
        kind: 'provider_cost',
        source: d.provider,
        spanId: `${d.trace_id}/${d.span_id}`,
        hangarMicros: hangar,
        externalMicros: Number(d.provider_cost_micros),
        message:
          hangar === null
            ? `${d.provider} reported ${d.provider_cost_micros} for a call Hangar could not price`
            : `${d.provider} reported ${d.provider_cost_micros}; Hangar settled ${hangar}`,
      });
    }
    return { summaries, differences };
  }

  /** What the ledger posted to the payee for a payment: the mandate hold's post (or late transfer) less refunds. */
  async function ledgerNets(projectId: string, list: Payment[]): Promise<Map<string, number>> {
    const keysOf = (p: Payment) => {
      const hold = p.holdIds[0];
      const key = p.idempotencyKey;
      return [
        `payment:${key}:refund`,
        ...(hold ? [`hold:${hold}:resolve`, `payment:${key}:late:${hold}`] : []),
      ];
    };
    const transfers = new Map(
      (await ledger.transfersByKeys(projectId, list.flatMap(keysOf))).map((t) => [t.idempotencyKey, t]),
    );
    const nets = new Map<string, number>();
    for (const p of list) {
      const hold = p.holdIds[0];
      const key = p.idempotencyKey;
      const posted = hold ? transfers.get(`hold:${hold}:resolve`) : undefined;
      const late = hold ? transfers.get(`payment:${key}:late:${hold}`) : undefined;
      const refund = transfers.get(`payment:${key}:refund`);
      nets.set(
        p.id,
        (posted?.kind === 'post_pending' ? posted.amountMicros : 0) + (late?.amountMicros ?? 0) - (refund?.amountMicros ?? 0),
      );
    }
    return nets;
  }

  async function rail(projectId: string, from: string, to: string, r: PaymentRail, all: Payment[]) {
    const list = all.filter((p) => p.rail === r.name);
    const prefix = `${projectId}:`;
    const entries = (await r.statement(from, to)).filter((e) => e.idempotencyKey.startsWith(prefix));
    const byKey = new Map(entries.map((e) => [e.idempotencyKey.slice(prefix.length), e]));
    const nets = await ledgerNets(projectId, list);
    const railNet = (e: RailStatementEntry | undefined) => (e?.status === 'captured' ? e.amountMicros : 0);
    const differences: ReconciliationDifference[] = [];
    let ledgerMicros = 0;
    let railMicros = 0;
    for (const p of list) {
      const entry = byKey.get(p.idempotencyKey);
      byKey.delete(p.idempotencyKey);
      const inLedger = nets.get(p.id)!;
      const onRail = railNet(entry);
      ledgerMicros += inLedger;
      railMicros += onRail;
      const ids = { source: r.name, paymentId: p.id, ...(entry || p.railRef ? { railRef: entry?.ref ?? p.railRef! } : {}) };
      if (UNSETTLED.has(p.status)) {
        differences.push({ kind: 'unsettled_payment', ...ids, hangarMicros: inLedger, externalMicros: onRail, message: `payment ${p.id} is ${p.status}` });
      }
      if (inLedger === onRail) continue;
      const kind = !entry ? 'missing_on_rail' : inLedger === 0 ? 'missing_in_ledger' : 'amount_mismatch';
      differences.push({
        kind,
        ...ids,
        hangarMicros: inLedger,
        externalMicros: onRail,
        message: `payment ${p.id}: the ledger posted ${inLedger}, the ${r.name} rail's statement says ${onRail}`,
      });
    }
    // Entries of this project on the rail that no payment of the window accounts for.
    for (const [key, e] of byKey) {
      railMicros += railNet(e);
      if (railNet(e) === 0) continue;
      differences.push({
        kind: 'missing_in_ledger',
        source: r.name,
        railRef: e.ref,
        hangarMicros: null,
        externalMicros: e.amountMicros,
        message: `the ${r.name} rail captured ${e.amountMicros} for ${e.payee} (key ${key}) and no payment of this window has it`,
      });
    }
    const summary: RailReconciliation = {
      rail: r.name,
      payments: list.length,
      statementEntries: entries.length,
      ledgerMicros,
      railMicros,
      differenceMicros: ledgerMicros - railMicros,
    };
    return { summary, differences: differences.slice(0, MAX_LISTED) };
  }

  return {
    /**
     * Reconciles [from, to) (ISO times); `to` defaults to the end of the current millisecond (so what
     * was written just before the call is in) and `from` to 24 hours before `to`.
     */
    async reconcile(projectId: string, window: { from?: string | undefined; to?: string | undefined } = {}): Promise<ReconciliationReport> {
      const to = window.to ? new Date(window.to) : new Date(Date.now() + 1);
      const from = window.from ? new Date(window.from) : new Date(to.getTime() - 86_400_000);
      if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) {
        throw new ApiError('validation_failed', 'from and to must be ISO 8601 times.');
      }
      if (from >= to) throw new ApiError('validation_failed', 'from must be before to.');
      const [fromIso, toIso] = [from.toISOString(), to.toISOString()];
      const p = await providers(projectId, fromIso, toIso);
      const all = await payments.listBetween(projectId, fromIso, toIso);
      const rails = await Promise.all(options.rails.map((r) => rail(projectId, fromIso, toIso, r, all)));
      const differences = [...p.differences, ...rails.flatMap((r) => r.differences)];
      return {
        from: fromIso,
        to: toIso,
        ok: differences.length === 0,
        providers: p.summaries,
        rails: rails.map((r) => r.summary),
        differences,
      };
    },
  };
}

export type Reconciliation = ReturnType<typeof createReconciliation>;
