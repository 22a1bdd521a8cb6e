import { errors as joseErrors, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK, type JWTPayload, type JWTVerifyResult } from 'jose';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { ApiError } from '../http/api-error.js';
import { newId, nowIso } from '../util/ids.js';
import type { SecretBox } from '../util/secret-box.js';
import { createIdentityStore } from './identity-store.js';

/** The `iss` of every token Hangar signs. */
export const ISSUER = 'hangar';
export const ALGORITHM = 'EdDSA';
/** No credential lives longer than this; a retired key stays published this long after it signed its last. */
export const MAX_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;
const DEFAULT_ROTATE_AFTER_MS = 7 * 24 * 60 * 60 * 1000;
const ACTIVE_RECHECK_MS = 60_000;
/** Clock skew tolerated between Hangar processes and clients. */
const CLOCK_TOLERANCE_S = 5;

export interface SigningKeysOptions {
  db: Kysely<Database>;
  /** From HANGAR_SECRET: private keys are sealed with it at rest; null keeps them in the clear (dev mode). */
  secretBox?: SecretBox | null;
  /** A key signs for this long, then a new one takes over (the old one keeps verifying). */
  rotateAfterMs?: number;
}

type Key = Awaited<ReturnType<typeof importJWK>>;

/** Associated data of a sealed private key: the ciphertext opens in its own row only. */
const sealedFor = (kid: string) => `signing-key/${kid}`;
/** A stored private key is a JWK (JSON, in the clear) or a SecretBox ciphertext (`v1.…`). */
const isSealed = (stored: string) => !stored.startsWith('{');

/** The start-up refusal when HANGAR_SECRET does not open the stored signing keys. */
export class SigningKeysLockedError extends Error {
  override name = 'SigningKeysLockedError';
}

/**
 * The server's Ed25519 signing keys. One key signs at a time; rotation adds a new key and retires the
 * old one, which stays in the JWKS until every credential it signed has expired, so rotation never
 * breaks a live credential. Private keys are stored in the database and never served.
 */
export function createSigningKeys({ db, secretBox = null, rotateAfterMs = DEFAULT_ROTATE_AFTER_MS }: SigningKeysOptions) {
  const store = createIdentityStore(db);
  let active: { kid: string; key: Key; createdAt: number; checkedAt: number } | null = null;
  const publicKeys = new Map<string, Key>();

  async function create(): Promise<{ kid: string; key: Key; createdAt: number }> {
    const pair = await generateKeyPair(ALGORITHM, { crv: 'Ed25519', extractable: true });
    const kid = newId('sig');
    const createdAt = nowIso();
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid, alg: ALGORITHM, use: 'sig' };
    const privateJwk = await exportJWK(pair.privateKey);
    await db.transaction().execute(async (trx) => {
      const s = createIdentityStore(trx);
      await s.insertSigningKey({
        kid,
        public_jwk: JSON.stringify(publicJwk),
        private_jwk: secretBox ? secretBox.seal(JSON.stringify(privateJwk), sealedFor(kid)) : JSON.stringify(privateJwk),
        created_at: createdAt,
        retired_at: null,
      });
      await s.retireSigningKeysExcept(kid, createdAt);
    });
    return { kid, key: pair.privateKey, createdAt: Date.parse(createdAt) };
  }

  async function activeKey() {
    const now = Date.now();
    if (active && now - active.checkedAt < ACTIVE_RECHECK_MS && now - active.createdAt < rotateAfterMs) return active;
    const current = (await store.signingKeys()).find((k) => k.retired_at === null);
    let chosen: { kid: string; key: Key; createdAt: number };
    if (current && now - Date.parse(current.created_at) < rotateAfterMs) {
      chosen = {
        kid: current.kid,
        key: await importJWK(JSON.parse(privateJwk(current.kid, current.private_jwk)) as JWK, ALGORITHM),
        createdAt: Date.parse(current.created_at),
      };
    } else {
      chosen = await create();
    }
    active = { ...chosen, checkedAt: now };
    return active;
  }

  /** The private JWK of a stored key, opened with HANGAR_SECRET when it is sealed. */
  function privateJwk(kid: string, stored: string): string {
    if (!isSealed(stored)) return stored;
    if (!secretBox) throw new SigningKeysLockedError(`Signing key ${kid} is encrypted with HANGAR_SECRET, which is not set: set it to the value the keys were stored with.`);
    const opened = secretBox.open(stored, sealedFor(kid));
    if (opened === null) throw new SigningKeysLockedError(`HANGAR_SECRET does not open signing key ${kid}: it is not the secret the keys were stored with.`);
    return opened;
  }

  async function publicKey(kid: string): Promise<Key | undefined> {
    const cached = publicKeys.get(kid);
    if (cached) return cached;
    const row = await store.signingKey(kid);
    if (!row) return undefined;
    const key = await importJWK(JSON.parse(row.public_jwk) as JWK, ALGORITHM);
    publicKeys.set(kid, key); // public keys never change under a kid
    return key;
  }

  return {
    /**
     * At start-up: checks that every stored private key opens (refusing with SigningKeysLockedError
     * when HANGAR_SECRET is missing or wrong) and, with a secret, seals the keys still in the clear.
     * Returns how many it sealed. Safe when several processes start at once.
     */
    async prepare(): Promise<{ sealed: number; inClear: number }> {
      let sealed = 0;
      let inClear = 0;
      for (const row of await store.signingKeys()) {
        const jwk = privateJwk(row.kid, row.private_jwk);
        if (isSealed(row.private_jwk)) continue;
        if (!secretBox) {
          inClear++;
          continue;
        }
        if (await store.replacePrivateKey(row.kid, row.private_jwk, secretBox.seal(jwk, sealedFor(row.kid)))) sealed++;
      }
      return { sealed, inClear };
    },

    /** Signs claims with the active key. `exp`, `iat`, `nbf` and `jti` are the caller's to set. */
    async sign(claims: JWTPayload): Promise<string> {
      return (await this.signer())(claims);
    },

    /**
     * A signing function bound to the active key, which touches no database: take it before opening a
     * transaction (on SQLite, a read outside the open transaction would wait for it forever).
     */
    async signer(): Promise<(claims: JWTPayload) => Promise<string>> {
      const { kid, key } = await activeKey();
      return (claims) => new SignJWT(claims).setProtectedHeader({ alg: ALGORITHM, kid, typ: 'JWT' }).setIssuer(ISSUER).sign(key);
    },

    /**
     * Verifies signature, algorithm, issuer, audience and times; refuses with credential_invalid or
     * credential_expired. Says nothing about revocation: that is the caller's database check.
     */
    async verify(token: string, audience: string): Promise<JWTVerifyResult> {
      try {
        return await jwtVerify(
          token,
          async (header) => {
            if (header.alg !== ALGORITHM) throw new ApiError('credential_invalid', `Credentials are signed with ${ALGORITHM}, not ${String(header.alg)}.`);
            const key = header.kid ? await publicKey(header.kid) : undefined;
            if (!key) throw new ApiError('credential_invalid', 'The credential is signed by a key Hangar does not know.');
            return key;
          },
          { issuer: ISSUER, audience, algorithms: [ALGORITHM], clockTolerance: CLOCK_TOLERANCE_S, requiredClaims: ['exp', 'jti', 'iat'] },
        );
      } catch (err) {
        if (err instanceof ApiError) throw err;
        if (err instanceof joseErrors.JWTExpired) throw new ApiError('credential_expired', 'The credential has expired; ask for a new one.');
        if (err instanceof joseErrors.JWTClaimValidationFailed) {
          const why = err.claim === 'nbf' ? 'is not valid yet' : err.claim === 'aud' ? `is not for audience '${audience}'` : `fails its '${err.claim}' check`;
          throw new ApiError('credential_invalid', `The credential ${why}.`, { details: { claim: err.claim } });
        }
        if (err instanceof joseErrors.JOSEError) throw new ApiError('credential_invalid', 'The credential is not a valid signed token.', { details: { reason: err.code } });
        throw err;
      }
    },

    /** The public keys, as a JWK Set: the active key and every retired one a live credential may carry. */
    async jwks(): Promise<{ keys: JWK[] }> {
      const cutoff = Date.now() - MAX_TOKEN_TTL_MS - CLOCK_TOLERANCE_S * 1000;
      await activeKey(); // a fresh server publishes a key before it has signed anything
      const rows = await store.signingKeys();
      return {
        keys: rows.filter((r) => r.retired_at === null || Date.parse(r.retired_at) > cutoff).map((r) => JSON.parse(r.public_jwk) as JWK),
      };
    },

    /** Starts signing with a new key now; the old one keeps verifying what it signed. Returns the new kid. */
    async rotate(): Promise<string> {
      const created = await create();
      active = { ...created, checkedAt: Date.now() };
      return created.kid;
    },
  };
}

export type SigningKeys = ReturnType<typeof createSigningKeys>;
