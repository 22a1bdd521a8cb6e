import { canonicalJson, sha256Hex } from '../util/hash.js';

/** The fields an event's hash covers: everything about it, including the previous event's hash. */
export interface HashedFields {
  projectId: string;
  stream: string;
  seq: number;
  type: string;
  /** canonical JSON of the actor */
  actor: string;
  time: string;
  payloadSha256: string;
  prevHash: string | null;
}

/**
 * The chain hash of an event. Changing any covered field of any event changes its hash, and so breaks
 * the link from the next event, which is how `verify` finds tampering.
 */
export function eventHash(f: HashedFields): string {
  return sha256Hex(
    canonicalJson([f.projectId, f.stream, f.seq, f.type, f.actor, f.time, f.payloadSha256, f.prevHash]),
  );
}
