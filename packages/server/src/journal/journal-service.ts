import type { Kysely } from 'kysely';
import type { Actor, AppendedEvent, BrokenLink, JournalEvent, VerifyReport } from '@hangar/protocol';
import type { BlobStore } from '../blobs/blob-store.js';
import type { Database } from '../db/schema.js';
import { ApiError } from '../http/api-error.js';
import { canonicalJson, sha256Hex } from '../util/hash.js';
import { nowIso } from '../util/ids.js';
import { eventHash } from './journal-hash.js';
import { createJournalStore, type EventRow, type Head } from './journal-store.js';

export interface JournalOptions {
  db: Kysely<Database>;
  blobs: BlobStore;
  /** Payloads larger than this many bytes of JSON go to the blob store. */
  inlineLimit?: number;
}

export interface AppendInput {
  projectId: string;
  stream: string;
  actor: Actor;
  events: Array<{ type: string; payload?: unknown }>;
  /** Fail with seq_conflict unless the stream's head is exactly this (0 = empty stream). */
  expectedSeq?: number | undefined;
}

const DEFAULT_INLINE_LIMIT = 4096;
const HEAD_CACHE_SIZE = 10_000;
const MAX_RACE_RETRIES = 20;
const BLOB_GRACE_MS = 60 * 60 * 1000;

/**
 * The journal: the append-only, hash-chained record of everything that happens. Each stream (a run,
 * an agent, a project's keys…) is a chain of events numbered 1, 2, 3… with no gaps.
 */
export function createJournal(options: JournalOptions) {
  const { db, blobs } = options;
  const inlineLimit = options.inlineLimit ?? DEFAULT_INLINE_LIMIT;
  // A hint only: a stale entry costs one retry, because the insert itself checks the head (insertAfter).
  const heads = new Map<string, Head | null>();
  const headKey = (projectId: string, stream: string) => `${projectId}\u0000${stream}`;

  // Appends to one stream from this process take turns, so they never race each other for the head
  // (other processes still can: the guarded insert and a retry settle that).
  const tails = new Map<string, Promise<unknown>>();
  function oneAtATime<T>(key: string, work: () => Promise<T>): Promise<T> {
    const run = (tails.get(key) ?? Promise.resolve()).then(work, work);
    const tail = run.catch(() => {});
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return run;
  }

  function remember(key: string, head: Head | null) {
    heads.delete(key);
    heads.set(key, head);
    if (heads.size > HEAD_CACHE_SIZE) heads.delete(heads.keys().next().value!);
  }

  interface Prepared {
    type: string;
    json: string;
    inline: boolean;
    payloadSha256: string;
  }

  function prepare(input: AppendInput): Prepared[] {
    return input.events.map((e) => {
      const json = canonicalJson(e.payload ?? null);
      return { type: e.type, json, inline: Buffer.byteLength(json) <= inlineLimit, payloadSha256: sha256Hex(json) };
    });
  }

  async function appendIn(trx: Kysely<Database>, input: AppendInput, prepared: Prepared[]): Promise<AppendedEvent[]> {
    const store = createJournalStore(trx);
    const key = headKey(input.projectId, input.stream);
    const actor = canonicalJson(input.actor);
    for (const p of prepared) if (!p.inline) await blobs.put(trx, Buffer.from(p.json), p.payloadSha256);

    let head = heads.has(key) ? heads.get(key)! : await store.head(input.projectId, input.stream);
    if (input.expectedSeq !== undefined && (head?.seq ?? 0) !== input.expectedSeq) {
      head = await store.head(input.projectId, input.stream);
    }
    const appended: AppendedEvent[] = [];
    for (let i = 0; i < prepared.length; i++) {
      const p = prepared[i]!;
      for (let attempt = 0; ; attempt++) {
        if (input.expectedSeq !== undefined && i === 0 && (head?.seq ?? 0) !== input.expectedSeq) {
          remember(key, head);
          throw new ApiError(
            'seq_conflict',
            `Stream ${input.stream} is at seq ${head?.seq ?? 0}, not ${input.expectedSeq}.`,
            { details: { headSeq: head?.seq ?? 0 } },
          );
        }
        const time = nowIso();
        const seq = (head?.seq ?? 0) + 1;
        const prevHash = head?.hash ?? null;
        const hash = eventHash({
          projectId: input.projectId,
          stream: input.stream,
          seq,
          type: p.type,
          actor,
          time,
          payloadSha256: p.payloadSha256,
          prevHash,
        });
        const row: EventRow = {
          project_id: input.projectId,
          stream: input.stream,
          seq,
          type: p.type,
          actor,
          time,
          payload: p.inline ? p.json : null,
          payload_sha256: p.payloadSha256,
          prev_hash: prevHash,
          hash,
        };
        if (await store.insertAfter(row, head)) {
          head = { seq, hash };
          appended.push({ stream: input.stream, seq, type: p.type, time, hash });
          break;
        }
        // Another writer moved the head (or our cached head was stale): reread it and try again.
        if (attempt >= MAX_RACE_RETRIES) {
          throw new ApiError('conflict', `Stream ${input.stream} is too contended; retry the append.`);
        }
        head = await store.head(input.projectId, input.stream);
      }
    }
    remember(key, head);
    return appended;
  }

  async function toEvent(trx: Kysely<Database>, row: EventRow): Promise<JournalEvent> {
    let payload: unknown;
    if (row.payload !== null) payload = JSON.parse(row.payload);
    else {
      const content = await blobs.get(trx, row.payload_sha256);
      payload = content ? JSON.parse(Buffer.from(content).toString('utf8')) : null;
    }
    return {
      stream: row.stream,
      seq: row.seq,
      type: row.type,
      actor: JSON.parse(row.actor) as Actor,
      time: row.time,
      payload,
      payloadSha256: row.payload_sha256,
      prevHash: row.prev_hash,
      hash: row.hash,
    };
  }

  async function verifyStream(projectId: string, stream: string): Promise<{ events: number; broken?: BrokenLink }> {
    const store = createJournalStore(db);
    const anchor = await store.anchor(projectId, stream);
    let prev: Head | null = anchor ?? null;
    let events = 0;
    const PAGE = 1000;
    for (;;) {
      const rows = await store.read(projectId, stream, prev?.seq ?? 0, PAGE);
      for (const row of rows) {
        events++;
        const link = (reason: BrokenLink['reason']) => ({ events, broken: { stream, seq: row.seq, reason } });
        if (row.seq !== (prev?.seq ?? 0) + 1) return link('seq_gap');
        if (row.prev_hash !== (prev?.hash ?? null)) return link('prev_hash_mismatch');
        const recomputed = eventHash({
          projectId,
          stream,
          seq: row.seq,
          type: row.type,
          actor: row.actor,
          time: row.time,
          payloadSha256: row.payload_sha256,
          prevHash: row.prev_hash,
        });
        if (recomputed !== row.hash) return link('hash_mismatch');
        if (row.payload !== null) {
          if (sha256Hex(row.payload) !== row.payload_sha256) return link('payload_mismatch');
        } else {
          const content = await blobs.get(db, row.payload_sha256);
          if (!content) return link('payload_missing');
          if (sha256Hex(content) !== row.payload_sha256) return link('payload_mismatch');
        }
        prev = { seq: row.seq, hash: row.hash };
      }
      if (rows.length < PAGE) return { events };
    }
  }

  return {
    /**
     * Appends events to a stream, all or nothing. Pass `trx` to make the append part of a larger
     * transaction (a key created and its journal event commit together).
     */
    async append(input: AppendInput, trx?: Kysely<Database>): Promise<AppendedEvent[]> {
      // Inside a caller's transaction the append cannot wait its turn: the transaction may hold the
      // connection the turn ahead of it needs.
      const prepared = prepare(input);
      if (trx) return appendIn(trx, input, prepared);
      // One event with an inline payload is one guarded INSERT, atomic on its own: no transaction
      // needed (bench/journal: begin + commit were two of the three statements of an append).
      const single = prepared.length === 1 && prepared[0]!.inline;
      return oneAtATime(headKey(input.projectId, input.stream), () =>
        single ? appendIn(db, input, prepared) : db.transaction().execute((t) => appendIn(t, input, prepared)),
      );
    },

    async read(projectId: string, stream: string, afterSeq: number, limit: number) {
      const rows = await createJournalStore(db).read(projectId, stream, afterSeq, limit);
      const events = await Promise.all(rows.map((r) => toEvent(db, r)));
      const last = rows.at(-1);
      return { events, nextAfterSeq: rows.length === limit && last ? last.seq : null };
    },

    async listStreams(projectId: string, options: { cursor?: string; prefix?: string; limit: number }) {
      const rows = await createJournalStore(db).listStreams(projectId, {
        after: options.cursor,
        prefix: options.prefix,
        limit: options.limit,
      });
      const streams = rows.map((r) => ({ stream: r.stream, headSeq: Number(r.headSeq), lastTime: String(r.lastTime) }));
      const last = streams.at(-1);
      return { streams, nextCursor: streams.length === options.limit && last ? last.stream : null };
    },

    /** Recomputes the hash chains of one stream or every stream of the project. */
    async verify(projectId: string, stream?: string): Promise<VerifyReport> {
      const names = stream ? [stream] : await createJournalStore(db).streamNames(projectId);
      const report: VerifyReport = { ok: true, streams: 0, events: 0, broken: [] };
      for (const name of names) {
        const result = await verifyStream(projectId, name);
        report.streams++;
        report.events += result.events;
        if (result.broken) report.broken.push(result.broken);
      }
      report.ok = report.broken.length === 0;
      return report;
    },

    /**
     * Removes events older than `retentionDays` (keeping each stream's chain verifiable from an anchor:
     * the hash of the last removed event), then blobs nothing references any more.
     */
    async applyRetention(projectId: string, retentionDays: number, now = Date.now()) {
      const before = new Date(now - retentionDays * 86_400_000).toISOString();
      const at = new Date(now).toISOString();
      const eventsRemoved = await db.transaction().execute(async (trx) => {
        const store = createJournalStore(trx);
        let removed = 0;
        for (const cut of await store.cutPoints(projectId, before)) {
          const last = await store.eventAt(projectId, cut.stream, cut.seq);
          if (!last) continue;
          removed += await store.removePrefix(projectId, cut.stream, { seq: last.seq, hash: last.hash }, at);
          heads.delete(headKey(projectId, cut.stream));
        }
        return removed;
      });
      const blobsRemoved = await blobs.removeUnreferenced(db, new Date(now - BLOB_GRACE_MS).toISOString());
      return { eventsRemoved, blobsRemoved };
    },

    /** A payload blob, if an event of this project refers to it. */
    async payloadBlob(projectId: string, sha256: string): Promise<Uint8Array | null> {
      if (!(await createJournalStore(db).referencesPayload(projectId, sha256))) return null;
      return blobs.get(db, sha256);
    },
  };
}

export type Journal = ReturnType<typeof createJournal>;
