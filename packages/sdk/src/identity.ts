import type {
  Agent,
  Approval,
  ApprovalWebhook,
  CreateAgentRequest,
  Credential,
  DelegateRequest,
  IssueCredentialRequest,
  IssuedCredential,
  JournalEvent,
  Policy,
  PolicyCheckRequest,
  PolicyDecision,
  SavePolicyRequest,
  TokenExchangeRequest,
  TokenExchangeResponse,
} from '@hangar/protocol';
import { enc, type Call } from './call.js';


/** Agents, credentials, policies and approvals: the identity and policy parts of the client. */
export function identityMethods(call: Call) {
  return {
    agents: {
      list: () => call<{ agents: Agent[] }>('GET', '/v1/agents'),
      create: (request: CreateAgentRequest) => call<Agent>('POST', '/v1/agents', request),
      get: (id: string) => call<{ agent: Agent; credentials: Credential[]; recentActions: JournalEvent[] }>('GET', `/v1/agents/${enc(id)}`),
      /** Revokes the agent: every credential with it in its chain stops working. */
      revoke: (id: string) => call<Agent>('DELETE', `/v1/agents/${enc(id)}`),
      /** Issues a short-lived signed credential (a JWT) to the agent. */
      issueCredential: (id: string, request: IssueCredentialRequest) => call<IssuedCredential>('POST', `/v1/agents/${enc(id)}/credentials`, request),
      credentials: (id: string) => call<{ credentials: Credential[] }>('GET', `/v1/agents/${enc(id)}/credentials`),
    },
    credentials: {
      /** With a credential as the client's key: a narrower credential for a sub-agent. */
      delegate: (request: DelegateRequest) => call<IssuedCredential>('POST', '/v1/credentials/delegate', request),
      revoke: (id: string) => call<Credential>('DELETE', `/v1/credentials/${enc(id)}`),
      /** RFC 8693 token exchange: a token bound to one audience (a tool or resource). */
      exchange: (request: TokenExchangeRequest) => call<TokenExchangeResponse>('POST', '/v1/token', request),
    },
    policies: {
      list: () => call<{ policies: Policy[] }>('GET', '/v1/policies'),
      get: (id: string) => call<Policy>('GET', `/v1/policies/${enc(id)}`),
      create: (request: SavePolicyRequest) => call<Policy>('POST', '/v1/policies', request),
      update: (id: string, request: SavePolicyRequest) => call<Policy>('PUT', `/v1/policies/${enc(id)}`, request),
      remove: (id: string) => call<Policy>('DELETE', `/v1/policies/${enc(id)}`),
      /** "Would this be allowed?" without doing it. */
      check: (request: PolicyCheckRequest) => call<PolicyDecision>('POST', '/v1/policies/check', request),
    },
    approvals: {
      list: (status?: Approval['status']) => call<{ approvals: Approval[] }>('GET', '/v1/approvals', undefined, { status }),
      get: (id: string) => call<Approval>('GET', `/v1/approvals/${enc(id)}`),
      approve: (id: string, note?: string) => call<Approval>('POST', `/v1/approvals/${enc(id)}/approve`, note === undefined ? {} : { note }),
      deny: (id: string, note?: string) => call<Approval>('POST', `/v1/approvals/${enc(id)}/deny`, note === undefined ? {} : { note }),
      setWebhook: (url: string | null) => call<ApprovalWebhook>('PUT', '/v1/approvals/webhook', { url }),
    },
  };
}
