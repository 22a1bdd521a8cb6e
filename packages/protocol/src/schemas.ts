import { z } from 'zod';

/** Roles an API key can have, from most to least powerful. */
export const ROLES = ['admin', 'member', 'read-only', 'ingest-only'] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

export const Timestamp = z.string().describe('RFC 3339 time in UTC, e.g. 2026-11-25T09:24:33.123Z');

export const Project = z.object({
  id: z.string(),
  organizationId: z.string(),
  name: z.string(),
  retentionDays: z.number().int().nullable().describe('Journal events older than this many days are removed; null keeps them forever'),
  createdAt: Timestamp,
});
export type Project = z.infer<typeof Project>;

export const ProjectName = z.string().trim().min(1).max(100);

export const CreateProjectRequest = z.object({ name: ProjectName });
export type CreateProjectRequest = z.infer<typeof CreateProjectRequest>;

export const UpdateProjectRequest = z
  .object({
    name: ProjectName.optional(),
    retentionDays: z.number().int().min(1).max(36_500).nullable().optional(),
  })
  .strict();
export type UpdateProjectRequest = z.infer<typeof UpdateProjectRequest>;

export const ApiKey = z.object({
  id: z.string(),
  projectId: z.string(),
  name: z.string(),
  role: Role,
  prefix: z.string().describe('The first characters of the key, enough to recognise it in logs'),
  createdAt: Timestamp,
  lastUsedAt: Timestamp.nullable(),
  revokedAt: Timestamp.nullable(),
});
export type ApiKey = z.infer<typeof ApiKey>;

export const CreateKeyRequest = z.object({
  name: z.string().trim().min(1).max(100),
  role: Role.default('member'),
});
export type CreateKeyRequest = z.input<typeof CreateKeyRequest>;

/** A newly created key: the only time its secret is shown. */
export const CreatedKey = ApiKey.extend({ key: z.string().describe('The secret; shown once, never again') });
export type CreatedKey = z.infer<typeof CreatedKey>;

export const CreatedProject = z.object({ project: Project, key: CreatedKey });
export type CreatedProject = z.infer<typeof CreatedProject>;

export const Whoami = z.object({
  key: ApiKey,
  project: Project,
  organization: z.object({ id: z.string(), name: z.string() }),
});
export type Whoami = z.infer<typeof Whoami>;

/** Who did something: the authenticated principal, as recorded in the journal. */
export const Actor = z.object({
  type: z.enum(['key', 'agent', 'user', 'system']),
  id: z.string(),
});
export type Actor = z.infer<typeof Actor>;

export const StreamName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9:._/-]*$/, 'letters, digits and : . _ / - only, starting with a letter or digit');

export const EventType = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z][a-z0-9_.-]*$/, 'lower-case letters, digits and . _ - only, starting with a letter');

/** Any JSON value (request bodies are parsed JSON, so nothing else can arrive). */
export const JsonValue = z.unknown().describe('Any JSON value');

export const NewEvent = z.object({ type: EventType, payload: JsonValue.optional() });
export type NewEvent = z.input<typeof NewEvent>;

export const AppendRequest = z.object({
  events: z.array(NewEvent).min(1).max(1000),
  expectedSeq: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe("The stream's current head; the append fails with seq_conflict if another append got there first"),
});
export type AppendRequest = z.input<typeof AppendRequest>;

export const JournalEvent = z.object({
  stream: z.string(),
  seq: z.number().int(),
  type: z.string(),
  actor: Actor,
  time: Timestamp,
  payload: JsonValue,
  payloadSha256: z.string(),
  prevHash: z.string().nullable(),
  hash: z.string(),
});
export type JournalEvent = z.infer<typeof JournalEvent>;

export const AppendedEvent = JournalEvent.pick({ stream: true, seq: true, type: true, time: true, hash: true });
export type AppendedEvent = z.infer<typeof AppendedEvent>;

export const AppendResponse = z.object({ events: z.array(AppendedEvent) });
export type AppendResponse = z.infer<typeof AppendResponse>;

export const EventPage = z.object({
  events: z.array(JournalEvent),
  nextAfterSeq: z.number().int().nullable().describe('Pass as afterSeq to read the next page; null at the head'),
});
export type EventPage = z.infer<typeof EventPage>;

export const StreamSummary = z.object({ stream: z.string(), headSeq: z.number().int(), lastTime: Timestamp });
export type StreamSummary = z.infer<typeof StreamSummary>;

export const StreamList = z.object({ streams: z.array(StreamSummary), nextCursor: z.string().nullable() });
export type StreamList = z.infer<typeof StreamList>;

export const BrokenLink = z.object({
  stream: z.string(),
  seq: z.number().int(),
  reason: z.enum(['hash_mismatch', 'prev_hash_mismatch', 'seq_gap', 'payload_mismatch', 'payload_missing']),
});
export type BrokenLink = z.infer<typeof BrokenLink>;

export const VerifyReport = z.object({
  ok: z.boolean(),
  streams: z.number().int(),
  events: z.number().int(),
  broken: z.array(BrokenLink).describe('The first broken link of each stream that has one'),
});
export type VerifyReport = z.infer<typeof VerifyReport>;

export const RetentionReport = z.object({ eventsRemoved: z.number().int(), blobsRemoved: z.number().int() });
export type RetentionReport = z.infer<typeof RetentionReport>;
