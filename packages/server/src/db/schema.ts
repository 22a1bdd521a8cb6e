import type { Generated } from 'kysely';

/** Table types. Times are RFC 3339 UTC strings on every dialect, so they sort as text. */
export interface Database {
  organizations: { id: string; name: string; created_at: string };
  projects: {
    id: string;
    organization_id: string;
    name: string;
    retention_days: number | null;
    created_at: string;
  };
  api_keys: {
    id: string;
    project_id: string;
    name: string;
    role: string;
    prefix: string;
    key_hash: string;
    created_at: string;
    last_used_at: string | null;
    revoked_at: string | null;
  };
  journal_events: {
    project_id: string;
    stream: string;
    seq: number;
    type: string;
    actor: string;
    time: string;
    payload: string | null;
    payload_sha256: string;
    prev_hash: string | null;
    hash: string;
  };
  journal_anchors: { project_id: string; stream: string; seq: number; hash: string; removed_at: string };
  spans: {
    project_id: string;
    trace_id: string;
    span_id: string;
    parent_span_id: string | null;
    name: string;
    kind: string;
    status: string;
    status_message: string | null;
    error_type: string | null;
    start_time: string;
    end_time: string;
    duration_ms: number;
    service_name: string | null;
    agent: string | null;
    provider: string | null;
    model: string | null;
    tokens_input: number | null;
    tokens_output: number | null;
    tokens_cache_read: number | null;
    tokens_cache_write: number | null;
    tokens_reasoning: number | null;
    cost_micros: number | null;
    provider_cost_micros: number | null;
    tool_name: string | null;
    input_sha256: string | null;
    output_sha256: string | null;
    attributes: string;
    source: string;
    /** When the span was stored (null for spans stored before migration 011): the online-eval cursor. */
    ingested_at: string | null;
  };
  /** One row per trace, kept with its spans (migration 015; traces/trace-summaries-store.ts). */
  trace_summaries: {
    project_id: string;
    trace_id: string;
    /** The first span's: the earliest start, ties broken by span id. */
    start_time: string;
    root_span_id: string;
    root_name: string;
    /** The latest end of any span. */
    end_time: string;
    span_count: number;
    error_count: number;
    tokens_input: number;
    tokens_output: number;
    cost_micros: number;
    /** The largest span cost; null when no span has one. */
    max_cost_micros: number | null;
    max_duration_ms: number;
    /** The agent of every span that names one; null when none does or they differ (then multi_agent = 1). */
    agent: string | null;
    multi_agent: number;
  };
  price_overrides: { project_id: string; entries: string; updated_at: string };
  config_generation: { id: string; generation: number };
  blobs: { sha256: string; size: number; created_at: string; content: Uint8Array | null };
  ledger_accounts: {
    id: string;
    project_id: string;
    code: string | null;
    kind: string;
    name: string;
    currency: string;
    metadata: string | null;
    created_at: string;
  };
  /** An account's bounds and running balances (since migration 016; one row per account). */
  ledger_balances: {
    account_id: string;
    project_id: string;
    min_balance: number | null;
    max_balance: number | null;
    debits_posted: Generated<number>;
    credits_posted: Generated<number>;
    debits_pending: Generated<number>;
    credits_pending: Generated<number>;
  };
  ledger_transfers: {
    id: string;
    project_id: string;
    kind: string;
    debit_account_id: string;
    credit_account_id: string;
    amount: number;
    currency: string;
    pending_id: string | null;
    timeout_at: string | null;
    batch_id: string;
    idempotency_key: string;
    request_hash: string;
    memo: string | null;
    metadata: string | null;
    created_at: string;
  };
  ledger_open_holds: { transfer_id: string; project_id: string; timeout_at: string };
  budgets: {
    id: string;
    project_id: string;
    name: string;
    scope: string;
    scope_id: string;
    period: string;
    time_zone: string;
    limit_micros: number;
    currency: string;
    mode: string;
    thresholds: string;
    webhook_url: string | null;
    webhook_secret: string | null;
    created_at: string;
  };
  budget_alerts: { budget_id: string; period_key: string; threshold: number; fired_at: string };
  webhook_deliveries: {
    id: string;
    project_id: string;
    url: string;
    secret: string;
    event_type: string;
    body: string;
    attempts: Generated<number>;
    next_attempt_at: string | null;
    delivered_at: string | null;
    last_error: string | null;
    created_at: string;
  };
  payment_limits: {
    project_id: string;
    agent_id: string;
    currency: string;
    per_transaction: number | null;
    per_day: number | null;
    time_zone: string;
    payees: string | null;
    approval_over: number | null;
    updated_at: string;
  };
  mandate_signers: { id: string; project_id: string; name: string; public_key: string; created_at: string };
  mandates: {
    id: string;
    project_id: string;
    signer_id: string;
    agent_id: string;
    terms: string;
    signature: string;
    amount_cap: number;
    currency: string;
    payees: string | null;
    categories: string | null;
    expires_at: string;
    single_use: number;
    uses: Generated<number>;
    account_id: string;
    created_at: string;
  };
  payments: {
    id: string;
    project_id: string;
    agent_id: string;
    mandate_id: string;
    payee: string;
    amount: number;
    currency: string;
    purpose: string;
    merchant_category: string | null;
    status: string;
    rail: string;
    rail_ref: string | null;
    hold_ids: string;
    failure_reason: string | null;
    idempotency_key: string;
    request_hash: string;
    created_at: string;
    updated_at: string;
    /** The payment.create action that made it (POST /v1/payments); null for a payment made directly. */
    action_id: string | null;
    /** That action's pipeline state (JSON) until the action is recorded. */
    action_context: string | null;
  };
  sandbox_rail_entries: {
    ref: string;
    idempotency_key: string;
    payee: string;
    amount: number;
    currency: string;
    status: string;
    created_at: string;
    updated_at: string;
  };
  gateway_providers: {
    project_id: string;
    name: string;
    type: string;
    base_url: string | null;
    key_ciphertext: string | null;
    config: string;
    created_at: string;
    updated_at: string;
  };
  gateway_routes: { project_id: string; name: string; config: string; created_at: string; updated_at: string };
  gateway_answers: { project_id: string; request_sha256: string; stream: string; seq: number; created_at: string };
  agents: {
    id: string;
    project_id: string;
    name: string;
    owner: string;
    description: string;
    /** JSON object of string labels */
    labels: string;
    created_at: string;
    revoked_at: string | null;
  };
  signing_keys: { kid: string; public_jwk: string; private_jwk: string; created_at: string; retired_at: string | null };
  credentials: {
    /** the JWT id (jti) */
    id: string;
    project_id: string;
    agent_id: string;
    /** the credential this one was delegated or exchanged from */
    parent_id: string | null;
    /** JSON array of every credential id above this one, root first */
    ancestors: string;
    kind: string;
    audience: string;
    acting_for: string;
    /** JSON ActorChain principals, outermost first */
    actor_chain: string;
    /** JSON Scopes */
    scopes: string;
    spend_cap_micros: number | string;
    spent_micros: number | string;
    /** JSON Intent or null */
    intent: string | null;
    issued_by: string;
    issued_at: string;
    expires_at: string;
    revoked_at: string | null;
  };
  policies: {
    id: string;
    project_id: string;
    name: string;
    description: string;
    /** Cedar source: one or more policy statements */
    text: string;
    created_at: string;
    updated_at: string;
  };
  agent_actions: {
    id: string;
    project_id: string;
    kind: string;
    resource: string;
    /** the acting principal, `type:id`: only it may report the result */
    principal: string;
    /** pending → reporting (a result or the sweeper claimed it) → ok | error | abandoned */
    status: string;
    idempotency_key: string;
    request_hash: string;
    /** JSON ActionContext: the decision and the holds to settle */
    context: string;
    result_hash: string | null;
    /** JSON: the reported result (or the sweeper's), then the finished action */
    result: string | null;
    expires_at: string;
    created_at: string;
    updated_at: string;
  };
  approvals: {
    id: string;
    project_id: string;
    /** pending → approved | denied | expired; approved → used */
    status: string;
    kind: string;
    resource: string;
    args_sha256: string;
    /** canonical JSON of the arguments, for the approver to read */
    args: string;
    cost_micros: number | string | null;
    /** JSON ActorChain */
    actor: string;
    reason: string;
    /** JSON array */
    policy_ids: string;
    requested_at: string;
    expires_at: string;
    decided_by: string | null;
    decided_at: string | null;
    note: string | null;
    /** the signed decision record (a JWS) */
    decision_token: string | null;
    valid_until: string | null;
    used_at: string | null;
  };
  approval_webhooks: { project_id: string; url: string; secret: string; created_at: string };
  datasets: {
    id: string;
    project_id: string;
    name: string;
    description: string | null;
    latest_version: number;
    case_count: number;
    created_at: string;
    updated_at: string;
  };
  dataset_versions: { dataset_id: string; version: number; case_count: number; note: string | null; created_at: string };
  dataset_cases: {
    dataset_id: string;
    case_id: string;
    /** The case is in every version from `version_from` up to, not including, `version_to`. */
    version_from: number;
    version_to: number | null;
    input: string;
    expected: string | null;
    metadata: string;
    tags: string;
    source: string | null;
  };
  experiments: {
    id: string;
    project_id: string;
    name: string;
    dataset_id: string | null;
    dataset_version: number | null;
    status: string;
    trials: number;
    metadata: string;
    agent_id: string | null;
    credential_id: string | null;
    budget_micros: number | null;
    cases_total: number;
    trials_done: number;
    cost_micros: number;
    /** Running sums per score name (JSON), so listing experiments never reads their results. */
    counters: string;
    created_at: string;
    finished_at: string | null;
  };
  trial_results: {
    experiment_id: string;
    case_id: string;
    trial: number;
    body: string;
    body_sha256: string;
    cost_micros: number;
    created_at: string;
  };
  trial_scores: {
    experiment_id: string;
    case_id: string;
    trial: number;
    name: string;
    value: number | null;
    pass: number | null;
    errored: number;
  };
  online_eval_rules: {
    id: string;
    project_id: string;
    name: string;
    scorer: string;
    sample_rate: number;
    filter: string;
    enabled: number;
    drift: string;
    webhook_url: string | null;
    webhook_secret: string | null;
    /** The worker has scored every span ingested up to (cursor_at, cursor_key = "trace/span"). */
    cursor_at: string;
    cursor_key: string;
    lease_until: string;
    deleted_at: string | null;
    created_at: string;
    updated_at: string;
  };
  span_scores: {
    project_id: string;
    rule_id: string;
    trace_id: string;
    span_id: string;
    name: string;
    value: number | null;
    pass: number | null;
    error: string | null;
    span_time: string;
    created_at: string;
  };
  drift_alerts: {
    id: string;
    project_id: string;
    rule_id: string;
    bucket: string;
    metric: string;
    reference_mean: number;
    recent_mean: number;
    reference_n: number;
    recent_n: number;
    test: string;
    p_value: number;
    window_start: string;
    window_end: string;
    created_at: string;
    acknowledged_at: string | null;
  };
}
