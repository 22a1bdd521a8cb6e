import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const MIN_SECRET_LENGTH = 16;

/**
 * Encrypts secrets at rest (gateway provider keys, identity signing keys): AES-256-GCM under a key
 * derived (HKDF-SHA256) from HANGAR_SECRET. The associated data binds a ciphertext to its row
 * (`<project>/<provider>`, `signing-key/<kid>`), so a ciphertext copied into another row does not decrypt.
 */
export interface SecretBox {
  seal(plaintext: string, associatedData: string): string;
  /** null when the ciphertext does not open under this secret (HANGAR_SECRET changed, or tampering). */
  open(sealed: string, associatedData: string): string | null;
}

/**
 * A SecretBox for HANGAR_SECRET, or null when no secret is configured (provider keys are then refused,
 * signing keys kept in the clear).
 */
export function createSecretBox(secret: string | undefined): SecretBox | null {
  if (secret === undefined || secret === '') return null;
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new Error(
      `HANGAR_SECRET must be at least ${MIN_SECRET_LENGTH} characters (e.g. \`openssl rand -base64 32\`).`,
    );
  }
  // the info string predates signing keys; changing it would orphan every stored provider key
  const key = Buffer.from(hkdfSync('sha256', secret, 'hangar', 'gateway provider keys v1', 32));
  const b64 = (b: Buffer) => b.toString('base64url');
  return {
    seal(plaintext, associatedData) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(associatedData));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [VERSION, b64(iv), b64(cipher.getAuthTag()), b64(ciphertext)].join('.');
    },
    open(sealed, associatedData) {
      const [version, iv, tag, ciphertext] = sealed.split('.');
      if (version !== VERSION || !iv || !tag || ciphertext === undefined) return null;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(associatedData));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([
          decipher.update(Buffer.from(ciphertext, 'base64url')),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        return null;
      }
    },
  };
}
