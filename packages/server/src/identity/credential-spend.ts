import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { ApiError } from '../http/api-error.js';
import type { Ledger } from '../ledger/ledger-service.js';
import type { CredentialFacts } from './identity-service.js';
import { createIdentityStore } from './identity-store.js';

export interface CredentialSpendOptions {
  db: Kysely<Database>;
  ledger: Ledger;
}

const CURRENCY = 'USD';
const code = {
  allocation: (id: string) => `credential:${id}:allocation`,
  cap: (id: string) => `credential:${id}:cap`,
  spent: (id: string) => `credential:${id}:spent`,
};

/**
 * Spend caps of credentials as ledger holds. Each credential gets an account funded with its cap (made
 * on its first costly action; it may not go below zero); an action holds its
 * worst case on the account of its credential and of every credential that one was delegated from,
 * in one linked batch, so concurrent actions can never spend past a cap. Settling charges the actual
 * cost and releases the rest; a hold never settled (a crashed process) expires with the ledger's sweep.
 */
export function createCredentialSpend({ db, ledger }: CredentialSpendOptions) {
  const known = new Map<string, { capId: string; spentId: string }>();

  async function accountsOf(projectId: string, credential: { id: string; capMicros: number }) {
    const cached = known.get(credential.id);
    if (cached) return cached;
    const base = { kind: 'budget' as const, currency: CURRENCY, metadata: { credentialId: credential.id } };
    const allocation = await ledger.createAccount(projectId, { ...base, name: `credential ${credential.id}: allocation`, code: code.allocation(credential.id) });
    const spent = await ledger.createAccount(projectId, { ...base, name: `credential ${credential.id}: spent`, code: code.spent(credential.id) });
    const cap = await ledger.createAccount(projectId, { ...base, name: `credential ${credential.id}: cap`, code: code.cap(credential.id), minBalanceMicros: 0 });
    // funded with the cap, once: the key makes every process (and a retry after a crash) agree on it
    await ledger.transfer(projectId, [
      { debitAccountId: allocation.account.id, creditAccountId: cap.account.id, amountMicros: credential.capMicros, idempotencyKey: `${code.cap(credential.id)}:open`, memo: 'spend cap' },
    ]);
    const ids = { capId: cap.account.id, spentId: spent.account.id };
    known.set(credential.id, ids);
    return ids;
  }

  return {
    /**
     * Holds `amountMicros` on the cap of the credential and of each it was delegated from; refuses with
     * spend_cap_exceeded (naming the credential that cannot pay) and holds nothing when one cannot.
     */
    async hold(projectId: string, facts: CredentialFacts, amountMicros: number, options: { idempotencyKey: string; timeoutMs: number }): Promise<string[]> {
      const ids = [facts.id, ...facts.ancestors];
      // narrowest first, so that a refusal names the narrowest credential that cannot pay
      const chain = (await createIdentityStore(db).spend(ids)).sort((a, b) => ids.indexOf(a.id) - ids.indexOf(b.id));
      const targets = [];
      for (const c of chain) targets.push({ credentialId: c.id, ...(await accountsOf(projectId, c)) });
      try {
        const transfers = await ledger.commit(
          projectId,
          targets.map((t) => ({
            type: 'hold' as const,
            debitAccountId: t.capId,
            creditAccountId: t.spentId,
            amountMicros,
            timeoutMs: options.timeoutMs,
            idempotencyKey: `${options.idempotencyKey}:${t.credentialId}`,
            metadata: { credentialId: t.credentialId },
          })),
        );
        return transfers.map((t) => t.id);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 'insufficient_balance')) throw err;
        const { accountId, availableMicros } = err.details as { accountId: string; availableMicros: number };
        const refused = targets.find((t) => t.capId === accountId)?.credentialId ?? facts.id;
        throw new ApiError('spend_cap_exceeded', `The action may cost ${amountMicros} micro-units; credential ${refused} has ${availableMicros} left.`, {
          details: { credentialId: refused, remainingMicros: availableMicros, maxCostMicros: amountMicros },
        });
      }
    },

    /**
     * Charges `actualMicros` (at most what was held) on each hold and releases the rest. `replayed`:
     * the holds were settled so before (by another process finishing the same action), nothing now.
     */
    async settle(projectId: string, holdIds: string[], actualMicros: number): Promise<{ overrunMicros: number; replayed: boolean }> {
      const holds = await Promise.all(holdIds.map((id) => ledger.getHold(projectId, id)));
      const { replayed } = await ledger.commitDetailed(
        projectId,
        holds.map((h) => ({ type: 'post' as const, holdId: h.id, amountMicros: Math.min(actualMicros, h.transfer.amountMicros) })),
      );
      return { overrunMicros: Math.max(0, ...holds.map((h) => actualMicros - h.transfer.amountMicros)), replayed };
    },

    /** Releases the holds of an action that did not happen. */
    async release(projectId: string, holdIds: string[]): Promise<void> {
      await ledger.commit(projectId, holdIds.map((holdId) => ({ type: 'void' as const, holdId })));
    },
  };
}

export type CredentialSpend = ReturnType<typeof createCredentialSpend>;
