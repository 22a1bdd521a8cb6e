import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../db/test-databases.js';
import { startServer } from '../serve.js';
import { createSecretBox } from '../util/secret-box.js';
import { createSigningKeys, SigningKeysLockedError } from './signing-keys.js';

const SECRET = 'a-long-enough-secret-for-tests';
const stored = (t: TestDatabase) => t.db.selectFrom('signing_keys').select(['kid', 'private_jwk']).execute();

for (const dialect of DIALECTS) {
  describe(`signing keys at rest on ${dialect}`, () => {
    let t: TestDatabase;
    afterEach(async () => {
      await t.close();
    });

    it('seals private keys with HANGAR_SECRET, and seals those stored in the clear before it was set', async () => {
      t = await openTestDatabase(dialect);
      // dev mode: no secret, the key is stored in the clear
      const dev = createSigningKeys({ db: t.db });
      const token = await dev.sign({ jti: 'j1', aud: 'a', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 60 });
      const [clear] = await stored(t);
      expect(JSON.parse(clear!.private_jwk)).toHaveProperty('d');
      expect(await dev.prepare()).toEqual({ sealed: 0, inClear: 1 });

      // the secret is set: start-up seals it; the same key goes on verifying and signing
      const keys = createSigningKeys({ db: t.db, secretBox: createSecretBox(SECRET) });
      expect(await keys.prepare()).toEqual({ sealed: 1, inClear: 0 });
      const [sealed] = await stored(t);
      expect(sealed!.kid).toBe(clear!.kid);
      expect(sealed!.private_jwk).toMatch(/^v1\./);
      expect(sealed!.private_jwk).not.toContain(JSON.parse(clear!.private_jwk).d);
      expect((await keys.verify(token, 'a')).protectedHeader.kid).toBe(clear!.kid);
      const again = await keys.sign({ jti: 'j2', aud: 'a', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 60 });
      expect((await keys.verify(again, 'a')).protectedHeader.kid).toBe(clear!.kid);

      // a rotated key is sealed from the start
      const kid = await keys.rotate();
      expect((await stored(t)).find((k) => k.kid === kid)!.private_jwk).toMatch(/^v1\./);
      expect(await keys.prepare()).toEqual({ sealed: 0, inClear: 0 });

      // sealed keys and no secret, or another secret: refused, and nothing is changed
      const before = await stored(t);
      await expect(createSigningKeys({ db: t.db }).prepare()).rejects.toThrow(SigningKeysLockedError);
      await expect(createSigningKeys({ db: t.db, secretBox: createSecretBox('another-long-secret-2') }).prepare()).rejects.toThrow(/not the secret the keys were stored with/);
      expect(await stored(t)).toEqual(before);
    });
  });
}

describe('a server whose signing keys are sealed', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('refuses to start without HANGAR_SECRET or with another one, and says which', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'hangar-keys-'));
    dirs.push(dataDir);
    const logger = pino({ level: 'silent' });
    const start = (secret?: string) => startServer(loadConfig({ HANGAR_DATA_DIR: dataDir, HANGAR_PORT: '0', ...(secret ? { HANGAR_SECRET: secret } : {}) }, { webDir: null }), { logger });

    const first = await start(SECRET);
    const jwks = (await (await fetch(`${first.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
    expect(jwks.keys).toHaveLength(1);
    await first.close();

    await expect(start()).rejects.toThrow(/encrypted with HANGAR_SECRET, which is not set/);
    await expect(start('another-long-secret-2')).rejects.toThrow(/HANGAR_SECRET does not open signing key/);
    const again = await start(SECRET);
    expect(((await (await fetch(`${again.url}/.well-known/jwks.json`)).json()) as typeof jwks).keys.map((k) => k.kid)).toEqual(jwks.keys.map((k) => k.kid));
    await again.close();
  });
});
