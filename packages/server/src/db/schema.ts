
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
  };
  blobs: { sha256: string; size: number; created_at: string; content: Uint8Array | null };
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
}
