
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
  blobs: { sha256: string; size: number; created_at: string; content: Uint8Array | null };
}
