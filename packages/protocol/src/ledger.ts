import { z } from 'zod';
import { Timestamp } from './schemas.js';

/** What an account stands for. `budget` accounts are made by budgets; the rest by you. */
export const ACCOUNT_KINDS = [
  'organization',
  'project',
  'agent',
  'run',
  'provider_payable',
  'external_payee',
  'funding_source',
  'budget',
] as const;
export const AccountKind = z.enum(ACCOUNT_KINDS);
export type AccountKind = z.infer<typeof AccountKind>;

/** An ISO 4217 code or a token symbol: 3–10 upper-case letters and digits, e.g. `USD`, `USDC`. */
export const Currency = z.string().regex(/^[A-Z][A-Z0-9]{2,9}$/, 'an upper-case currency code such as USD');

/** An amount in micro-units of its currency (1 USD = 1,000,000). Integers only, never floats. */
export const Micros = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** A signed amount in micro-units (a balance or a bound). */
export const SignedMicros = z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);

export const IdempotencyKey = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
  .describe('The same key with the same body returns the first result; with a different body, idempotency_conflict');

const Metadata = z.record(z.string(), z.unknown()).nullable();

export const CreateAccountRequest = z
  .object({
    kind: AccountKind.exclude(['budget']),
    name: z.string().trim().min(1).max(200),
    currency: Currency,
    code: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe('Your own unique name for the account in this project, e.g. agent:planner'),
    minBalanceMicros: SignedMicros.nullable()
      .optional()
      .describe('The balance (credits − debits) may never go below this; 0 = "may not go below zero"'),
    maxBalanceMicros: SignedMicros.nullable().optional().describe('The balance may never go above this'),
    metadata: Metadata.optional(),
  })
  .strict();
export type CreateAccountRequest = z.input<typeof CreateAccountRequest>;

export const Account = z
  .object({
    id: z.string(),
    kind: AccountKind,
    code: z.string().nullable(),
    name: z.string(),
    currency: z.string(),
    minBalanceMicros: z.number().int().nullable(),
    maxBalanceMicros: z.number().int().nullable(),
    debitsPostedMicros: z.number().int(),
    creditsPostedMicros: z.number().int(),
    debitsPendingMicros: z.number().int(),
    creditsPendingMicros: z.number().int(),
    balanceMicros: z.number().int().describe('credits posted − debits posted'),
    availableMicros: z.number().int().describe('balance − debits pending: what can still be debited'),
    metadata: Metadata,
    createdAt: Timestamp,
  });
export type Account = z.infer<typeof Account>;

export const TRANSFER_KINDS = ['posted', 'pending', 'post_pending', 'void_pending', 'expire_pending'] as const;
export const TransferKind = z.enum(TRANSFER_KINDS);
export type TransferKind = z.infer<typeof TransferKind>;

export const Transfer = z
  .object({
    id: z.string(),
    kind: TransferKind,
    debitAccountId: z.string(),
    creditAccountId: z.string(),
    amountMicros: z.number().int(),
    currency: z.string(),
    pendingId: z.string().nullable().describe('For post/void/expire: the hold (pending transfer) it resolves'),
    timeoutAt: Timestamp.nullable().describe('For a hold: when the sweeper voids it if still pending'),
    batchId: z.string().describe('Transfers committed together share a batch id'),
    idempotencyKey: z.string(),
    memo: z.string().nullable(),
    metadata: Metadata,
    createdAt: Timestamp,
  });
export type Transfer = z.infer<typeof Transfer>;

export const NewTransfer = z
  .object({
    debitAccountId: z.string().min(1).max(100),
    creditAccountId: z.string().min(1).max(100),
    amountMicros: Micros.min(1),
    idempotencyKey: IdempotencyKey,
    memo: z.string().max(500).optional(),
    metadata: Metadata.optional(),
  })
  .strict();
export type NewTransfer = z.input<typeof NewTransfer>;

export const CreateTransfersRequest = z
  .object({
    transfers: z
      .array(NewTransfer)
      .min(1)
      .max(100)
      .describe('Linked: all commit or none does'),
  })
  .strict();
export type CreateTransfersRequest = z.input<typeof CreateTransfersRequest>;

export const TransferList = z.object({ transfers: z.array(Transfer), nextCursor: z.string().nullable() });
export type TransferList = z.infer<typeof TransferList>;

export const AccountList = z.object({ accounts: z.array(Account), nextCursor: z.string().nullable() });
export type AccountList = z.infer<typeof AccountList>;

export const CreateHoldRequest = NewTransfer.extend({
  timeoutMs: z
    .number()
    .int()
    .min(1)
    .max(7 * 86_400_000)
    .describe('After this long a hold still pending is voided by the sweeper'),
}).strict();
export type CreateHoldRequest = z.input<typeof CreateHoldRequest>;

export const PostHoldRequest = z
  .object({
    amountMicros: Micros.optional().describe('The actual amount, at most the held amount; the rest is released. Default: all of it'),
  })
  .strict();
export type PostHoldRequest = z.input<typeof PostHoldRequest>;

export const HOLD_STATUSES = ['pending', 'posted', 'voided', 'expired'] as const;
export const Hold = z
  .object({
    id: z.string(),
    status: z.enum(HOLD_STATUSES),
    transfer: Transfer,
    resolution: Transfer.nullable().describe('The post, void or expiry transfer, once there is one'),
  });
export type Hold = z.infer<typeof Hold>;

export const LedgerProblem = z.object({
  reason: z.enum([
    'balance_drift',
    'bound_violated',
    'open_hold_mismatch',
    'post_exceeds_hold',
    'resolution_without_hold',
    'currency_mismatch',
    'unbalanced',
  ]),
  accountId: z.string().optional(),
  transferId: z.string().optional(),
  field: z.string().optional(),
  expected: z.number().optional(),
  actual: z.number().optional(),
});
export type LedgerProblem = z.infer<typeof LedgerProblem>;

export const LedgerVerifyReport = z.object({
  ok: z.boolean(),
  accounts: z.number().int(),
  transfers: z.number().int(),
  openHolds: z.number().int(),
  problems: z.array(LedgerProblem),
});
export type LedgerVerifyReport = z.infer<typeof LedgerVerifyReport>;

// ---------------------------------------------------------------------------------------------
// Budgets

export const BUDGET_SCOPES = ['run', 'credential', 'agent', 'project'] as const;
export const BudgetScope = z.enum(BUDGET_SCOPES);
export type BudgetScope = z.infer<typeof BudgetScope>;

export const BudgetPeriod = z.enum(['total', 'daily', 'monthly']);
export type BudgetPeriod = z.infer<typeof BudgetPeriod>;

export const TimeZone = z
  .string()
  .min(1)
  .max(64)
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'an IANA time zone such as Europe/Paris or UTC');

export const CreateBudgetRequest = z
  .object({
    name: z.string().trim().min(1).max(200),
    scope: BudgetScope,
    scopeId: z.string().min(1).max(200).describe('The id of the run, credential, agent or project'),
    period: BudgetPeriod.default('monthly'),
    timeZone: TimeZone.default('UTC').describe('Daily and monthly periods start at midnight here'),
    limitMicros: Micros.min(1),
    currency: Currency.default('USD'),
    mode: z.enum(['hard', 'soft']).default('hard').describe('hard refuses past the limit; soft only alerts'),
    thresholds: z
      .array(z.number().int().min(1).max(1000))
      .max(10)
      .default([50, 80, 100])
      .describe('Percentages of the limit that fire a webhook, once per period each'),
    webhookUrl: z.url({ protocol: /^https?$/ }).max(2000).nullable().default(null),
  })
  .strict();
export type CreateBudgetRequest = z.input<typeof CreateBudgetRequest>;

export const Budget = z
  .object({
    id: z.string(),
    name: z.string(),
    scope: BudgetScope,
    scopeId: z.string(),
    period: BudgetPeriod,
    timeZone: z.string(),
    limitMicros: z.number().int(),
    currency: z.string(),
    mode: z.enum(['hard', 'soft']),
    thresholds: z.array(z.number().int()),
    webhookUrl: z.string().nullable(),
    webhookSecret: z.string().nullable().describe('Signs the webhooks (HMAC-SHA256); shown to admin keys'),
    createdAt: Timestamp,
    current: z
      .object({
        periodKey: z.string().describe('total, 2026-11-25 (daily) or 2026-11 (monthly), in the budget time zone'),
        accountId: z.string().nullable(),
        postedMicros: z.number().int(),
        pendingMicros: z.number().int(),
        remainingMicros: z.number().int(),
        usedMicros: z.number().int().describe('charged + reserved this period (postedMicros + pendingMicros)'),
        periodStart: Timestamp.describe('When this period started (for total: when the budget was created)'),
        periodEnd: Timestamp.nullable().describe('When this period ends (exclusive); null for total'),
        asOf: Timestamp.describe('The moment these figures are for'),
        burnRateMicrosPerDay: z
          .number()
          .int()
          .describe(
            'usedMicros per day over the part of the period the budget existed for (at least one hour, so the first call of a period does not extrapolate wildly)',
          ),
        forecastMicros: z
          .number()
          .int()
          .nullable()
          .describe('usedMicros + the burn rate until periodEnd: what the period will have used at this pace; null for total'),
        forecastExceedsLimit: z.boolean().describe('forecastMicros > limitMicros (false for total)'),
      })
      .describe('This period so far, and where it is heading'),
  });
export type Budget = z.infer<typeof Budget>;

export const BudgetList = z.object({ budgets: z.array(Budget) });
export type BudgetList = z.infer<typeof BudgetList>;

export const ChainEntry = z.object({ scope: BudgetScope, id: z.string().min(1).max(200) });
export type ChainEntry = z.infer<typeof ChainEntry>;

export const ReserveRequest = z
  .object({
    chain: z.array(ChainEntry).min(1).max(8).describe('e.g. run → credential → agent → project'),
    amountMicros: Micros.min(1),
    currency: Currency.default('USD'),
    timeoutMs: z.number().int().min(1).max(86_400_000).default(600_000),
    idempotencyKey: IdempotencyKey,
  })
  .strict();
export type ReserveRequest = z.input<typeof ReserveRequest>;

export const Reservation = z.object({
  holdIds: z.array(z.string()).describe('One hold per budget in the chain; empty when no budget applies'),
  budgets: z.array(z.object({ budgetId: z.string(), holdId: z.string(), remainingMicros: z.number().int() })),
});
export type Reservation = z.infer<typeof Reservation>;

export const SettleRequest = z
  .object({
    holdIds: z.array(z.string().min(1).max(100)).max(16),
    actualMicros: Micros,
  })
  .strict();
export type SettleRequest = z.input<typeof SettleRequest>;

export const Settlement = z.object({
  settled: z.array(z.object({ holdId: z.string(), postedMicros: z.number().int(), releasedMicros: z.number().int() })),
  overrunMicros: z.number().int().describe('How much the actual cost exceeded what was held (not charged past a hard limit)'),
});
export type Settlement = z.infer<typeof Settlement>;

// ---------------------------------------------------------------------------------------------
// Reconciliation

/** A provider's costs in the window: what Hangar priced (and settled) against what the provider reported. */
export const ProviderReconciliation = z.object({
  provider: z.string(),
  calls: z.number().int(),
  /** Hangar's priced cost of every gateway call: what the budget hold stage posted. */
  hangarMicros: z.number().int(),
  /** Calls whose response carried the provider's own cost. */
  reportedCalls: z.number().int(),
  /** The provider's reported cost, over the calls that carried one. */
  providerMicros: z.number().int(),
  /** Hangar's cost over those same calls, to compare with providerMicros. */
  hangarMicrosOfReported: z.number().int(),
  differenceMicros: z.number().int(),
});
export type ProviderReconciliation = z.infer<typeof ProviderReconciliation>;

export const RailReconciliation = z.object({
  rail: z.string(),
  payments: z.number().int(),
  statementEntries: z.number().int(),
  /** Net posted to payees in the ledger (captures less refunds) for the window's payments. */
  ledgerMicros: z.number().int(),
  /** Net the rail's statement says moved (captured, less refunded). */
  railMicros: z.number().int(),
  differenceMicros: z.number().int(),
});
export type RailReconciliation = z.infer<typeof RailReconciliation>;

export const ReconciliationDifference = z.object({
  kind: z.enum(['provider_cost', 'missing_on_rail', 'missing_in_ledger', 'amount_mismatch', 'unsettled_payment']),
  /** The provider or rail it belongs to. */
  source: z.string(),
  /** The span (`traceId/spanId`), or the payment. */
  spanId: z.string().optional(),
  paymentId: z.string().optional(),
  railRef: z.string().optional(),
  hangarMicros: z.number().int().nullable(),
  externalMicros: z.number().int().nullable(),
  message: z.string(),
});
export type ReconciliationDifference = z.infer<typeof ReconciliationDifference>;

export const ReconciliationReport = z.object({
  from: z.string(),
  to: z.string(),
  ok: z.boolean(),
  providers: z.array(ProviderReconciliation),
  rails: z.array(RailReconciliation),
  differences: z.array(ReconciliationDifference),
});
export type ReconciliationReport = z.infer<typeof ReconciliationReport>;
