import { createRemoteJWKSet, decodeJwt, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test-app.js';

const SCOPES = { models: ['gpt-4o', 'claude-sonnet'], tools: ['search', 'fetch'], actions: ['model.call', 'tool.call'] };

describe('agents and credentials', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  async function agent(name = 'researcher') {
    const res = await t.request('POST', '/v1/agents', { body: { name, owner: 'team-search', description: 'finds things', labels: { tier: 'gold' } } });
    expect(res.status).toBe(201);
    return res.json as { id: string };
  }
  async function issue(agentId: string, extra: Record<string, unknown> = {}) {
    const res = await t.request('POST', `/v1/agents/${agentId}/credentials`, {
      body: { actingFor: { type: 'user', id: 'alice' }, scopes: SCOPES, spendCapMicros: 1_000_000, ttlSeconds: 600, ...extra },
    });
    expect(res.status).toBe(201);
    return res.json as { token: string; credential: { id: string; expiresAt: string } };
  }
  /** Rows that a refused request must not change. */
  const snapshot = async () => {
    const db = t.database.db;
    const [events, creds, agents] = await Promise.all([
      db.selectFrom('journal_events').selectAll().orderBy('stream').orderBy('seq').execute(),
      db.selectFrom('credentials').selectAll().orderBy('id').execute(),
      db.selectFrom('agents').selectAll().orderBy('id').execute(),
    ]);
    return JSON.stringify({ events, creds, agents });
  };
  /** Presents the token on a write route: refused with the code, and nothing written. */
  async function refused(token: string, code: string) {
    const before = await snapshot();
    const res = await t.request('POST', '/v1/streams/notes/events', { key: token, body: { events: [{ type: 'note' }] } });
    expect([res.status, res.json.error.code]).toEqual([401, code]);
    expect(await snapshot()).toBe(before);
  }

  it('registers agents, issues a credential that authenticates as the agent, and attributes its writes to it', async () => {
    const a = await agent();
    expect((await t.request('POST', '/v1/agents', { body: { name: 'researcher', owner: 'x' } })).json.error.code).toBe('conflict');
    const { token, credential } = await issue(a.id);
    expect(credential).toMatchObject({ agentId: a.id, actingFor: { type: 'user', id: 'alice' }, scopes: SCOPES, spendCapMicros: 1_000_000 });

    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ iss: 'hangar', aud: 'hangar', sub: 'user:alice', jti: credential.id, act: { sub: `agent:${a.id}` } });
    expect((claims.exp as number) - (claims.iat as number)).toBe(600);

    const me = await t.request('GET', '/v1/whoami', { key: token });
    expect(me.status).toBe(200);
    expect(me.json.key).toMatchObject({ id: credential.id, prefix: 'jwt' });
    const appended = await t.request('POST', '/v1/streams/notes/events', { key: token, body: { events: [{ type: 'note' }] } });
    expect(appended.status).toBe(201);
    const [event] = (await t.request('GET', '/v1/streams/notes/events')).json.events;
    expect(event.actor).toEqual({ type: 'agent', id: a.id });

    // a credential reads and ingests; it cannot administer
    const denied = await t.request('POST', '/v1/agents', { key: token, body: { name: 'other', owner: 'x' } });
    expect([denied.status, denied.json.error.code]).toEqual([403, 'forbidden']);

    const detail = await t.request('GET', `/v1/agents/${a.id}`);
    expect(detail.json.agent.labels).toEqual({ tier: 'gold' });
    expect(detail.json.credentials.map((c: { id: string }) => c.id)).toEqual([credential.id]);
    expect((await t.request('GET', '/v1/agents')).json.agents.map((x: { name: string }) => x.name)).toEqual(['researcher']);
  });

  it('publishes keys at /.well-known/jwks.json that verify credentials with plain jose, across a rotation', async () => {
    const a = await agent();
    const first = await issue(a.id);
    await t.signingKeys.rotate();
    const second = await issue(a.id);
    expect(decodeProtectedKid(first.token)).not.toBe(decodeProtectedKid(second.token));

    const server = await t.listen();
    try {
      const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
      for (const { token, credential } of [first, second]) {
        const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: 'hangar', audience: 'hangar' });
        expect(protectedHeader.alg).toBe('EdDSA');
        expect(payload.jti).toBe(credential.id);
      }
      const doc = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: Array<Record<string, unknown>> };
      expect(doc.keys).toHaveLength(2);
      expect(doc.keys.every((k: Record<string, unknown>) => k.kty === 'OKP' && k.crv === 'Ed25519' && !('d' in k))).toBe(true);
    } finally {
      await server.close();
    }
    // the credential signed before the rotation still works
    expect((await t.request('GET', '/v1/whoami', { key: first.token })).status).toBe(200);
  });

  it('delegates only narrower credentials, with the chain as nested act claims', async () => {
    const parentAgent = await agent('planner');
    const sub = await agent('browser');
    const parent = await issue(parentAgent.id);
    const before = await snapshot();
    const widen = async (body: Record<string, unknown>) => {
      const res = await t.request('POST', '/v1/credentials/delegate', { key: parent.token, body: { agentId: sub.id, scopes: { models: ['gpt-4o'], tools: ['search'], actions: ['tool.call'] }, spendCapMicros: 1000, ...body } });
      expect([res.status, res.json.error.code]).toEqual([403, 'delegation_escalation']);
      return res.json.error.details.violations as string[];
    };
    expect(await widen({ scopes: { models: ['gpt-4o', 'o3'], tools: [], actions: [] } })).toEqual(['scopes.models']);
    expect(await widen({ scopes: { models: [], tools: ['*'], actions: [] } })).toEqual(['scopes.tools']);
    expect(await widen({ spendCapMicros: 1_000_001 })).toEqual(['spendCapMicros']);
    expect(await widen({ ttlSeconds: 3600 })).toEqual(['expiresAt']);
    expect(await snapshot()).toBe(before);

    const res = await t.request('POST', '/v1/credentials/delegate', {
      key: parent.token,
      body: { agentId: sub.id, scopes: { models: [], tools: ['search'], actions: ['tool.call'] }, spendCapMicros: 5000, intent: { readOnly: true, purpose: 'look up prices' } },
    });
    expect(res.status).toBe(201);
    const claims = decodeJwt(res.json.token);
    expect(claims.sub).toBe('user:alice');
    expect(claims.act).toEqual({ sub: `agent:${sub.id}`, act: { sub: `agent:${parentAgent.id}` } });
    expect(claims.exp).toBeLessThanOrEqual(decodeJwt(parent.token).exp!);
    expect(res.json.credential).toMatchObject({ parentId: parent.credential.id, chain: [{ type: 'user', id: 'alice' }, { type: 'agent', id: parentAgent.id }, { type: 'agent', id: sub.id }] });

    // the child can narrow further, never widen back
    const grandchild = await t.request('POST', '/v1/credentials/delegate', { key: res.json.token, body: { agentId: sub.id, scopes: { models: [], tools: ['search'], actions: ['tool.call'] }, spendCapMicros: 10, intent: { purpose: 'anything' } } });
    expect([grandchild.status, grandchild.json.error.details.violations]).toEqual([403, ['intent.readOnly']]);
    // an API key cannot delegate: delegation starts from a credential
    expect((await t.request('POST', '/v1/credentials/delegate', { body: { agentId: sub.id, scopes: {}, spendCapMicros: 0 } })).json.error.code).toBe('forbidden');
  });

  it('exchanges a credential for a token bound to one audience, which the API itself refuses', async () => {
    const a = await agent();
    const { token, credential } = await issue(a.id);
    const res = await t.request('POST', '/v1/token', {
      key: token,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: token, resource: 'mcp://tools.example/search' }).toString(),
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ issued_token_type: 'urn:ietf:params:oauth:token-type:jwt', token_type: 'Bearer' });
    expect(res.json.expires_in).toBeLessThanOrEqual(600);
    const claims = decodeJwt(res.json.access_token);
    expect(claims).toMatchObject({ aud: 'mcp://tools.example/search', sub: 'user:alice', act: { sub: `agent:${a.id}` } });
    expect((claims.hangar as { ancestors: string[] }).ancestors).toEqual([credential.id]);

    // wrong audience: the exchanged token is for the tool, not for Hangar's API
    await refused(res.json.access_token, 'credential_invalid');
    const noAudience = await t.request('POST', '/v1/token', { key: token, body: { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: token } });
    expect(noAudience.json.error.code).toBe('validation_failed');
  });

  describe('refuses, with the right code and nothing written', () => {
    let a: { id: string };
    let good: { token: string; credential: { id: string } };
    beforeEach(async () => {
      a = await agent();
      good = await issue(a.id);
    });
    const parts = (token: string) => token.split('.') as [string, string, string];
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

    it('a forged signature', async () => {
      const [h, p] = parts(good.token);
      const { privateKey } = await generateKeyPair('EdDSA');
      const sig = parts(await new SignJWT(decodeJwt(good.token)).setProtectedHeader({ alg: 'EdDSA', kid: decodeProtectedKid(good.token) }).sign(privateKey))[2];
      await refused(`${h}.${p}.${sig}`, 'credential_invalid');
    });

    it('an unknown signing key', async () => {
      const { privateKey, publicKey } = await generateKeyPair('EdDSA');
      expect((await exportJWK(publicKey)).crv).toBe('Ed25519');
      await refused(await new SignJWT(decodeJwt(good.token)).setProtectedHeader({ alg: 'EdDSA', kid: 'sig_unknown' }).sign(privateKey), 'credential_invalid');
    });

    it('alg: none', async () => {
      const [, p] = parts(good.token);
      await refused(`${b64({ alg: 'none', typ: 'JWT', kid: decodeProtectedKid(good.token) })}.${p}.`, 'credential_invalid');
    });

    it('tampered claims', async () => {
      const [h, , s] = parts(good.token);
      const claims = decodeJwt(good.token) as JWTPayload & { hangar: { scopes: { tools: string[] } } };
      claims.hangar.scopes.tools = ['*'];
      await refused(`${h}.${b64(claims)}.${s}`, 'credential_invalid');
    });

    it('expired and not yet valid', async () => {
      const claims = decodeJwt(good.token);
      const now = Math.floor(Date.now() / 1000);
      await refused(await t.signingKeys.sign({ ...claims, iat: now - 7200, nbf: now - 7200, exp: now - 3600 }), 'credential_expired');
      await refused(await t.signingKeys.sign({ ...claims, nbf: now + 3600, exp: now + 7200 }), 'credential_invalid');
    });

    it('a well-signed token Hangar never issued', async () => {
      await refused(await t.signingKeys.sign({ ...decodeJwt(good.token), jti: 'cred_never_issued' }), 'credential_invalid');
    });

    it('revoked: by credential, by delegation subtree, and by agent', async () => {
      const sub = await agent('helper');
      const child = (await t.request('POST', '/v1/credentials/delegate', { key: good.token, body: { agentId: sub.id, scopes: { models: [], tools: [], actions: [] }, spendCapMicros: 0 } })).json;
      expect((await t.request('GET', '/v1/whoami', { key: child.token })).status).toBe(200);
      expect((await t.request('DELETE', `/v1/credentials/${good.credential.id}`)).json.revokedAt).not.toBeNull();
      await refused(good.token, 'credential_revoked');
      await refused(child.token, 'credential_revoked'); // the subtree goes with it

      const fresh = await issue(sub.id);
      expect((await t.request('DELETE', `/v1/agents/${sub.id}`)).json.revokedAt).not.toBeNull();
      await refused(fresh.token, 'credential_revoked');
    });

    it("another project's credential", async () => {
      const other = await t.request('POST', '/v1/projects', { body: { name: 'B' } });
      const keyB = other.json.key.key as string;
      const agentB = (await t.request('POST', '/v1/agents', { key: keyB, body: { name: 'b-agent', owner: 'b' } })).json;
      const tokenB = (await t.request('POST', `/v1/agents/${agentB.id}/credentials`, { key: keyB, body: { actingFor: { type: 'user', id: 'bob' }, scopes: SCOPES, spendCapMicros: 10 } })).json.token;
      const before = await snapshot();
      // B's credential cannot delegate to A's agent, nor be exchanged through A
      const delegated = await t.request('POST', '/v1/credentials/delegate', { key: tokenB, body: { agentId: a.id, scopes: { models: [], tools: [], actions: [] }, spendCapMicros: 0 } });
      expect([delegated.status, delegated.json.error.code]).toEqual([404, 'not_found']);
      const exchanged = await t.request('POST', '/v1/token', { key: good.token, body: { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: tokenB, audience: 'tool:search' } });
      expect([exchanged.status, exchanged.json.error.code], exchanged.text).toEqual([401, 'credential_invalid']);
      // and sees nothing of A
      expect((await t.request('GET', '/v1/agents', { key: tokenB })).json.agents.map((x: { id: string }) => x.id)).toEqual([agentB.id]);
      expect((await t.request('GET', `/v1/agents/${a.id}`, { key: tokenB })).status).toBe(404);
      expect(await snapshot()).toBe(before);
    });
  });
});

function decodeProtectedKid(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
}
