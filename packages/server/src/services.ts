import type { Logger } from 'pino';
import { createActionPipeline } from './actions/action-pipeline.js';
import { createAgentActions } from './actions/agent-actions-service.js';
import { createApprovals } from './approvals/approvals-service.js';
import { createBlobStore } from './blobs/blob-store.js';
import { budgetHoldStage } from './budgets/budget-stage.js';
import { createBudgets } from './budgets/budgets-service.js';
import { createConfigGeneration } from './cache/config-generation.js';
import type { OpenDatabase } from './db/database.js';
import { createDatasets } from './evals/datasets-service.js';
import { createExperiments } from './evals/experiments-service.js';
import { createOnlineEvals, type OnlineEvalsOptions } from './evals/online-evals-service.js';
import { createCallRecorder, RECORD_DELAY_MS } from './gateway/call-records.js';
import { createGateway, type GatewayHooks } from './gateway/gateway-service.js';
import { gatewayHooksFromStages } from './gateway/gateway-stages.js';
import { createProviderNetwork, type ProviderNetworkOptions } from './gateway/provider-network.js';
import { createSecretBox } from './util/secret-box.js';
import { createCredentialSpend } from './identity/credential-spend.js';
import { createIdentity } from './identity/identity-service.js';
import { createSigningKeys } from './identity/signing-keys.js';
import { createJournal } from './journal/journal-service.js';
import { createLedger } from './ledger/ledger-service.js';
import { createSandboxRail, type SandboxRailOptions } from './payments/payment-rail.js';
import { createPayments } from './payments/payments-service.js';
import { cedarPolicyStage, credentialSpendStage } from './policy/policy-stage.js';
import { createPolicies } from './policy/policy-service.js';
import { createPricing } from './pricing/pricing.js';
import { createRecordThread } from './records/record-thread.js';
import { createReconciliation } from './reconciliation/reconciliation-service.js';
import { createSpend } from './spend/spend-service.js';
import { createTenancy } from './tenancy/tenancy-service.js';
import { createTraceQuery } from './traces/trace-query-service.js';
import { createTraces } from './traces/traces-service.js';
import { createWebhooks } from './webhooks/webhook-service.js';

export interface ServicesOptions {
  database: OpenDatabase;
  logger: Logger;
  /** How the built-in sandbox payment rail misbehaves, for trying failure paths. */
  sandboxRail?: Omit<SandboxRailOptions, 'db'>;
  /**
   * HANGAR_SECRET: encrypts provider keys and signing keys at rest; without it the gateway refuses to
   * store provider keys and signing keys stay in the clear (dev mode).
   */
  secret?: string | undefined;
  /** Where provider base URLs may point (HANGAR_PROVIDER_ALLOWED_HOSTS, HANGAR_PROVIDER_DENY_PRIVATE). */
  providerNetwork?: ProviderNetworkOptions;
  /**
   * Write gateway call records and OTLP span batches on a thread of their own, where the database
   * offers one (the server does).
   */
  recordThread?: boolean;
  /** Replaces the pipeline's stages in the gateway (tests). */
  gatewayHooks?: GatewayHooks;
  /** The online-eval worker's clock and timings (tests set them). */
  onlineEvals?: Pick<OnlineEvalsOptions, 'now' | 'settleMs' | 'minWindowScores'>;
  /** Wait before the second attempt of a webhook delivery, doubling after (tests shorten it). */
  webhookBackoffBaseMs?: number;
}

/**
 * Every service of the server over one database, wired once: what `startServer`, the test app and the
 * benchmarks hand to `createApp`. Dependencies are passed by hand, in the order they need each other.
 * Throws when HANGAR_SECRET is set but too short, or HANGAR_PROVIDER_ALLOWED_HOSTS has an entry it cannot read.
 */
export function createServices(options: ServicesOptions) {
  const { database, logger, sandboxRail = {}, secret, gatewayHooks } = options;
  const { db } = database;
  // one counter for every per-process cache of the request path (keys, routes, policies, budgets, prices)
  const generation = createConfigGeneration({ db, direct: database.direct });
  const blobs = createBlobStore({ dir: database.blobDir, direct: database.direct });
  const journal = createJournal({ db, blobs });
  const tenancy = createTenancy({ db, journal, generation });
  const pricing = createPricing({ db, generation });
  // The record thread, started with its first record. Should it fail, call records are written here
  // (by a recorder made then, over `traces`), and so are span batches (`traces` writes here when the
  // thread takes no batch).
  const recordThread =
    options.recordThread && database.thread
      ? createRecordThread({
          database: database.thread,
          delayMs: RECORD_DELAY_MS,
          logger,
          fallback: () => createCallRecorder({ db, journal, traces, delayMs: RECORD_DELAY_MS }),
        })
      : undefined;
  const traces = createTraces({ db, blobs, pricing, direct: database.direct, spanSink: recordThread });
  const traceQuery = createTraceQuery({ db, functions: database.functions, blobs });
  const spend = createSpend({ db });
  const ledger = createLedger({ db, direct: database.direct });
  const webhooks = createWebhooks({ db, logger, backoffBaseMs: options.webhookBackoffBaseMs });
  const budgets = createBudgets({ db, ledger, webhooks, logger, generation });
  const rail = createSandboxRail({ db, ...sandboxRail });
  const secretBox = createSecretBox(secret);
  const signingKeys = createSigningKeys({ db, secretBox });
  const identity = createIdentity({ db, journal, signingKeys });
  const policies = createPolicies({ db, journal, generation });
  const approvals = createApprovals({
    db,
    journal,
    signingKeys,
    webhooks,
  });
  // The action path: authorize (credential scopes, intent, Cedar, approvals) → spend caps → budget hold.
  const stages = [
    cedarPolicyStage({ policies, identity, approvals: approvals.gate }),
    credentialSpendStage(identity, createCredentialSpend({ db, ledger })),
    budgetHoldStage(budgets),
  ];
  const actions = createActionPipeline({ db, journal, stages });
  // tool calls, sandbox runs, data reads… the agent executes itself, authorized and recorded on the same path
  const agentActions = createAgentActions({ db, pipeline: actions });
  // a payment is a payment.create action: authorized like every other before any money is held
  const payments = createPayments({ db, ledger, rail, logger, actions });
  const reconciliation = createReconciliation({ db, ledger, payments, rails: [rail] });
  const gateway = createGateway({
    db,
    journal,
    traces,
    secretBox,
    logger,
    generation,
    providerNetwork: createProviderNetwork(options.providerNetwork),
    recorder: recordThread,
    hooks: gatewayHooks ?? gatewayHooksFromStages(stages, pricing),
  });
  const datasets = createDatasets({ db, journal, traceQuery });
  const experiments = createExperiments({ db, journal, datasets, identity, budgets, logger });
  const onlineEvals = createOnlineEvals({ db, journal, traceQuery, gateway, webhooks, logger, ...options.onlineEvals });
  return {
    database,
    generation,
    blobs,
    journal,
    tenancy,
    pricing,
    traces,
    traceQuery,
    spend,
    ledger,
    webhooks,
    budgets,
    payments,
    reconciliation,
    signingKeys,
    identity,
    policies,
    approvals,
    actions,
    agentActions,
    gateway,
    /** Where gateway call records and OTLP span batches are written, when on a thread of their own. */
    recordThread,
    datasets,
    experiments,
    onlineEvals,
  };
}

export type Services = ReturnType<typeof createServices>;
