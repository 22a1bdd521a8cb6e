import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Budget, BudgetPeriod, BudgetScope, ChainEntry, CreateBudgetRequest, Reservation, Settlement } from '@hangar/protocol';
import { createConfigGeneration, type ConfigGeneration } from '../cache/config-generation.js';
import type { Database } from '../db/schema.js';
import { ApiError } from '../http/api-error.js';
import type { Ledger } from '../ledger/ledger-service.js';
import { newId } from '../util/ids.js';
import type { Webhooks } from '../webhooks/webhook-service.js';
import { burnRate, periodBounds, periodKey } from './budget-periods.js';
import { createBudgetsStore, type BudgetRow } from './budgets-store.js';

export interface BudgetsOptions {
  db: Kysely<Database>;
  ledger: Ledger;
  webhooks: Webhooks;
  logger?: Logger;
  now?: () => number;
  /** Tells this process when any process created a budget (shared by the services). */
  generation?: ConfigGeneration;
}

/** What the gateway (or any executor) asks for before it acts. */
export interface HoldForActionInput {
  projectId: string;
  /** Narrowest first, e.g. run → credential → agent → project. */
  chain: ChainEntry[];
  /** The worst-case cost, in micro-units. */
  amountMicros: number;
  currency?: string;
  /** After this long an unsettled reservation is released by the sweeper. */
  timeoutMs: number;
  /** Derived from the action (e.g. run id + step id): a replay reserves nothing new. */
  idempotencyKey: string;
}

const code = {
  allocation: (b: BudgetRow) => `budget:${b.id}:allocation`,
  spent: (b: BudgetRow) => `budget:${b.id}:spent`,
  period: (b: BudgetRow, key: string) => `budget:${b.id}:period:${key}`,
};

/**
 * Budgets as holds. Each budget period is a ledger account funded with the limit (a hard budget's may
 * not go below zero); an action reserves its worst case on every budget of its chain in one linked
 * batch, so concurrent actions can never overspend, then settles the actual cost and releases the rest.
 */
export function createBudgets(options: BudgetsOptions) {
  const { db, ledger, webhooks } = options;
  const now = options.now ?? Date.now;
  const generation = options.generation ?? createConfigGeneration({ db });
  // every action asks which budgets apply: a project's budgets are read once per config generation
  // (creating one bumps it, so a new budget applies to the next action in every process)
  const projectBudgets = generation.cache<BudgetRow[]>(1000);
  /** Period accounts known to exist and be funded: `${budgetId}/${periodKey}` → account ids. */
  const periodAccounts = new Map<string, { periodId: string; spentId: string }>();
  /** Thresholds known to have fired (`${budgetId}/${periodKey}/${threshold}`): skips a write per action. */
  const fired = new Set<string>();

  async function accountsFor(b: BudgetRow, key: string): Promise<{ periodId: string; spentId: string }> {
    const cacheKey = `${b.id}/${key}`;
    const cached = periodAccounts.get(cacheKey);
    if (cached) return cached;
    const base = { kind: 'budget' as const, currency: b.currency, metadata: { budgetId: b.id } };
    const allocation = await ledger.createAccount(b.project_id, { ...base, name: `${b.name}: allocation`, code: code.allocation(b) });
    const spent = await ledger.createAccount(b.project_id, { ...base, name: `${b.name}: spent`, code: code.spent(b) });
    const period = await ledger.createAccount(b.project_id, {
      ...base,
      name: `${b.name}: ${key}`,
      code: code.period(b, key),
      minBalanceMicros: b.mode === 'hard' ? 0 : null,
      metadata: { budgetId: b.id, periodKey: key },
    });
    // Fund the period with the limit, once (the key makes every process agree on it).
    await ledger.transfer(b.project_id, [
      {
        debitAccountId: allocation.account.id,
        creditAccountId: period.account.id,
        amountMicros: Number(b.limit_micros),
        idempotencyKey: `${code.period(b, key)}:open`,
        memo: `limit for ${key}`,
      },
    ]);
    const ids = { periodId: period.account.id, spentId: spent.account.id };
    periodAccounts.set(cacheKey, ids);
    return ids;
  }

  async function view(b: BudgetRow, includeSecret: boolean): Promise<Budget> {
    const at = now();
    const key = periodKey(b.period as BudgetPeriod, b.time_zone, new Date(at));
    const account = await ledger.getAccountByCode(b.project_id, code.period(b, key));
    const limit = Number(b.limit_micros);
    const posted = account?.debitsPostedMicros ?? 0;
    const pending = account?.debitsPendingMicros ?? 0;
    const bounds = periodBounds(b.period as BudgetPeriod, b.time_zone, new Date(at));
    const pace = burnRate({
      usedMicros: posted + pending,
      limitMicros: limit,
      since: Math.max(bounds?.start ?? 0, Date.parse(b.created_at)),
      now: at,
      end: bounds?.end ?? null,
    });
    return {
      id: b.id,
      name: b.name,
      scope: b.scope as BudgetScope,
      scopeId: b.scope_id,
      period: b.period as BudgetPeriod,
      timeZone: b.time_zone,
      limitMicros: limit,
      currency: b.currency,
      mode: b.mode as 'hard' | 'soft',
      thresholds: JSON.parse(b.thresholds) as number[],
      webhookUrl: b.webhook_url,
      webhookSecret: includeSecret ? b.webhook_secret : null,
      createdAt: b.created_at,
      current: {
        periodKey: key,
        accountId: account?.id ?? null,
        postedMicros: posted,
        pendingMicros: pending,
        remainingMicros: account?.availableMicros ?? limit,
        usedMicros: posted + pending,
        periodStart: new Date(bounds?.start ?? Date.parse(b.created_at)).toISOString(),
        periodEnd: bounds ? new Date(bounds.end).toISOString() : null,
        asOf: new Date(at).toISOString(),
        ...pace,
      },
    };
  }

  /** Fires each threshold the budget's period has reached (reserved + charged), once per period. */
  async function checkThresholds(b: BudgetRow, key: string, accountId: string): Promise<void> {
    const account = await ledger.getAccount(b.project_id, accountId);
    const used = account.debitsPostedMicros + account.debitsPendingMicros;
    const limit = Number(b.limit_micros);
    for (const threshold of JSON.parse(b.thresholds) as number[]) {
      if (used * 100 < threshold * limit) continue;
      const firedKey = `${b.id}/${key}/${threshold}`;
      if (fired.has(firedKey)) continue;
      await db.transaction().execute(async (trx) => {
        const fresh = await createBudgetsStore(trx).insertAlert({
          budget_id: b.id,
          period_key: key,
          threshold,
          fired_at: new Date(now()).toISOString(),
        });
        if (!fresh || !b.webhook_url || !b.webhook_secret) return;
        await webhooks.enqueue(
          {
            projectId: b.project_id,
            url: b.webhook_url,
            secret: b.webhook_secret,
            type: 'budget.threshold',
            data: {
              budgetId: b.id,
              name: b.name,
              scope: b.scope,
              scopeId: b.scope_id,
              periodKey: key,
              threshold,
              limitMicros: limit,
              usedMicros: used,
              remainingMicros: account.availableMicros,
              currency: b.currency,
              mode: b.mode,
            },
          },
          trx,
        );
      });
      if (fired.size > 10_000) fired.clear();
      fired.add(firedKey);
    }
  }

  async function afterChange(touched: Array<{ budget: BudgetRow; key: string; accountId: string }>) {
    try {
      for (const t of touched) await checkThresholds(t.budget, t.key, t.accountId);
      webhooks.nudge();
    } catch (err) {
      // an alert that fails to queue must not undo the money already reserved; the next change retries
      options.logger?.error({ err }, 'budget threshold check failed');
    }
  }

  return {
    async create(projectId: string, input: CreateBudgetRequest): Promise<Budget> {
      const row: BudgetRow = {
        id: newId('bgt'),
        project_id: projectId,
        name: input.name,
        scope: input.scope,
        scope_id: input.scopeId,
        period: input.period ?? 'monthly',
        time_zone: input.timeZone ?? 'UTC',
        limit_micros: input.limitMicros,
        currency: input.currency ?? 'USD',
        mode: input.mode ?? 'hard',
        thresholds: JSON.stringify([...new Set(input.thresholds ?? [50, 80, 100])].sort((a, b) => a - b)),
        webhook_url: input.webhookUrl ?? null,
        webhook_secret: input.webhookUrl ? `whsec_${randomBytes(24).toString('base64url')}` : null,
        created_at: new Date(now()).toISOString(),
      };
      await db.transaction().execute(async (trx) => {
        await createBudgetsStore(trx).insert(row);
        await generation.bump(trx);
      });
      projectBudgets.delete(projectId);
      return view(row, true);
    },

    async list(projectId: string, options: { includeSecrets: boolean }): Promise<Budget[]> {
      const rows = await createBudgetsStore(db).list(projectId);
      return Promise.all(rows.map((r) => view(r, options.includeSecrets)));
    },

    async get(projectId: string, id: string, options: { includeSecrets: boolean }): Promise<Budget> {
      const row = await createBudgetsStore(db).get(projectId, id);
      if (!row) throw new ApiError('not_found', `No budget ${id} in this project.`);
      return view(row, options.includeSecrets);
    },

    /**
     * Reserves `amountMicros` against every budget on the chain, all or nothing, before the action
     * runs. Throws `budget_exceeded` naming the budget that refused and what it has left.
     * @example
     * const { holdIds } = await budgets.holdForAction({ projectId, chain: [{ scope: 'run', id: runId }, { scope: 'project', id: projectId }],
     *   amountMicros: 20_000, timeoutMs: 600_000, idempotencyKey: `${runId}:${stepId}` });
     * // … call the provider …
     * await budgets.settle(projectId, holdIds, actualMicros);
     */
    async holdForAction(input: HoldForActionInput): Promise<Reservation> {
      const currency = input.currency ?? 'USD';
      const all = await projectBudgets.get(input.projectId, () => createBudgetsStore(db).list(input.projectId));
      const budgets = all.filter((b) => b.currency === currency && input.chain.some((c) => c.scope === b.scope && c.id === b.scope_id));
      if (budgets.length === 0) return { holdIds: [], budgets: [] };
      const at = new Date(now());
      const targets = [];
      for (const b of budgets) {
        const key = periodKey(b.period as BudgetPeriod, b.time_zone, at);
        const { periodId, spentId } = await accountsFor(b, key);
        targets.push({ budget: b, key, accountId: periodId, spentId });
      }
      // narrowest scope first, so that a refusal names the narrowest budget that refused
      const rank = (s: string) => input.chain.findIndex((c) => c.scope === s);
      targets.sort((x, y) => rank(x.budget.scope) - rank(y.budget.scope));
      let transfers;
      try {
        transfers = await ledger.commit(
          input.projectId,
          targets.map((t) => ({
            type: 'hold' as const,
            debitAccountId: t.accountId,
            creditAccountId: t.spentId,
            amountMicros: input.amountMicros,
            timeoutMs: input.timeoutMs,
            idempotencyKey: `${input.idempotencyKey}:${t.budget.id}`,
            metadata: { budgetId: t.budget.id, periodKey: t.key },
          })),
        );
      } catch (error) {
        if (error instanceof ApiError && error.code === 'insufficient_balance') {
          const refused = targets.find((t) => t.accountId === (error.details as { accountId: string }).accountId)!;
          const remaining = (error.details as { availableMicros: number }).availableMicros;
          const b = refused.budget;
          throw new ApiError(
            'budget_exceeded',
            `Budget '${b.name}' (${b.scope} ${b.scope_id}, ${refused.key}) has ${remaining} micro-${b.currency} left; this action needs up to ${input.amountMicros}.`,
            {
              details: {
                budget: { id: b.id, name: b.name, scope: b.scope, scopeId: b.scope_id, period: b.period, periodKey: refused.key },
                remainingMicros: remaining,
                requestedMicros: input.amountMicros,
              },
            },
          );
        }
        throw error;
      }
      await afterChange(targets);
      const budgetsOut = [];
      for (const [i, t] of targets.entries()) {
        const account = await ledger.getAccount(input.projectId, t.accountId);
        budgetsOut.push({ budgetId: t.budget.id, holdId: transfers[i]!.id, remainingMicros: account.availableMicros });
      }
      return { holdIds: transfers.map((t) => t.id), budgets: budgetsOut };
    },

    /**
     * Charges the actual cost on each hold and releases the rest. A cost above what was held charges
     * the held amount and reports the difference as `overrunMicros` (a hard limit is never passed).
     */
    async settle(projectId: string, holdIds: string[], actualMicros: number): Promise<Settlement> {
      const holds = await Promise.all(holdIds.map((id) => ledger.getHold(projectId, id)));
      const posts = holds.map((h) => ({ holdId: h.id, amount: Math.min(actualMicros, h.transfer.amountMicros), held: h.transfer.amountMicros }));
      await ledger.commit(
        projectId,
        posts.map((p) => ({ type: 'post' as const, holdId: p.holdId, amountMicros: p.amount })),
      );
      const touched = [];
      for (const h of holds) {
        const budgetId = (h.transfer.metadata as { budgetId?: string } | null)?.budgetId;
        const row = budgetId ? (await projectBudgets.get(projectId, () => createBudgetsStore(db).list(projectId))).find((b) => b.id === budgetId) : undefined;
        const key = (h.transfer.metadata as { periodKey?: string } | null)?.periodKey;
        if (row && key) touched.push({ budget: row, key, accountId: h.transfer.debitAccountId });
      }
      await afterChange(touched);
      const overrun = Math.max(0, ...posts.map((p) => actualMicros - p.held));
      return {
        settled: posts.map((p) => ({ holdId: p.holdId, postedMicros: p.amount, releasedMicros: p.held - p.amount })),
        overrunMicros: holdIds.length === 0 ? 0 : overrun,
      };
    },

    /** Releases every hold of a reservation (the action did not run). */
    async release(projectId: string, holdIds: string[]): Promise<void> {
      await ledger.commit(
        projectId,
        holdIds.map((holdId) => ({ type: 'void' as const, holdId })),
      );
    },

    alerts(budgetId: string) {
      return createBudgetsStore(db).alerts(budgetId);
    },
  };
}

export type Budgets = ReturnType<typeof createBudgets>;
