import { describe, expect, it } from 'vitest';
import type { ActionKind } from '../actions/action.js';
import { canonicalJson, sha256Hex } from '../util/hash.js';
import { cedarRequest, compilePolicySet, decide, validatePolicyText, type AgentFacts, type DecisionInput } from './cedar-engine.js';

// Each policy reads a different part of the request, through each way Cedar has of reading it.
const POLICIES = [
  'permit(principal is Agent, action == Action::"model.call", resource) when { principal.labels.contains("team=search") && context.amount <= 300000 };',
  'forbid(principal is Agent, action == Action::"model.call", resource == Model::"o3") unless { principal.owner == "search-leads" };',
  'permit(principal in User::"lead", action == Action::"tool.call", resource) when { context.intent.readOnly || context has intent };',
  'forbid(principal, action == Action::"tool.call", resource) when { context.arguments.hasTag("query") && context.arguments.getTag("query") like "*password*" };',
  '@effect("require_approval")\npermit(principal in User::"lead", action == Action::"payment.create", resource) when { context["amount"] <= 5000000 };',
  'forbid(principal, action == Action::"payment.create", resource) when { context.delegationDepth > 2 || context.hour < 6 };',
  // an ancestor's attributes, through an entity literal
  'permit(principal, action == Action::"data.read", resource) when { Agent::"agt_planner".labels.contains("env=prod") };',
  'permit(principal, action == Action::"data.write", resource) when { context.intent.purpose == "sync" };',
  // scopes over several actions, any action, and an action named in a condition
  'forbid(principal, action in [Action::"data.write", Action::"tool.call"], resource) when { context.intent.readOnly };',
  'forbid(principal, action, resource) when { context.hour >= 22 && action == Action::"payment.create" };',
  'permit(principal is Agent, action, resource) when { principal.name == "worker" && context.amount < 100000 };',
];

const agents = new Map<string, AgentFacts>([
  ['agt_planner', { name: 'planner', owner: 'search-leads', labels: { team: 'search', env: 'prod' } }],
  ['agt_worker', { name: 'worker', owner: 'search', labels: { team: 'search' } }],
  ['agt_other', { name: 'other', owner: 'ops', labels: { team: 'ops' } }],
]);

function requests(): DecisionInput[] {
  const kinds: ActionKind[] = ['model.call', 'tool.call', 'payment.create', 'data.read', 'data.write'];
  const out: DecisionInput[] = [];
  for (let i = 0; i < 200; i++) {
    const kind = kinds[i % kinds.length]!;
    const args = { query: i % 3 === 0 ? 'my password' : `q${i}`, limit: i };
    const worker = i % 4 === 0 ? 'agt_other' : 'agt_worker';
    out.push({
      kind,
      resource: kind === 'model.call' ? ['o3', 'gpt-4o'][i % 2]! : `r${i % 3}`,
      actor: { principals: [{ type: 'user', id: i % 5 === 0 ? 'someone' : 'lead' }, { type: 'agent', id: 'agt_planner' }, { type: 'agent', id: worker }] },
      args,
      argsSha256: sha256Hex(canonicalJson(args)),
      amountMicros: (i % 9) * 100_000,
      intent: i % 3 === 1 ? { readOnly: i % 2 === 0, purpose: i % 4 === 1 ? 'sync' : 'report' } : null,
      delegationDepth: i % 5,
      now: new Date(Date.UTC(2026, 10, 25, i % 24)),
      agents,
    });
  }
  return out;
}

describe('Cedar requests carry only what the policies can read', () => {
  it('every decision is the one Cedar makes with the whole set on the whole request', () => {
    for (const text of POLICIES) expect(validatePolicyText(text).errors).toEqual([]);
    const policies = POLICIES.map((text, i) => ({ id: `pol_${i}`, text }));
    const set = compilePolicySet('test:equivalence', policies);
    const everything = compilePolicySet('test:everything', policies, { split: false, trim: false });
    const effects = new Set<string>();
    for (const input of requests()) {
      const pruned = decide(set, input);
      expect(pruned).toEqual(decide(everything, input));
      effects.add(pruned.effect);
    }
    expect([...effects].sort()).toEqual(['allow', 'deny', 'require_approval']); // the requests exercise every outcome
  });

  it('gives each action kind only the statements that can apply to it', () => {
    const set = compilePolicySet('test:split', POLICIES.slice(8).map((text, i) => ({ id: `pol_${i}`, text })));
    const sent = (kind: ActionKind) => {
      const input = { ...requests()[0]!, kind };
      return cedarRequest(input, set.kinds.get(kind)!.reads);
    };
    // pol_0 reads intent (data.write, tool.call); pol_1 the hour (payment.create); pol_2 name and amount (every kind)
    expect(sent('tool.call').context).toEqual({ amount: expect.any(Number), intent: { readOnly: expect.any(Boolean) } });
    expect(sent('payment.create').context).toEqual({ amount: expect.any(Number), hour: expect.any(Number) });
    expect(sent('model.call').context).toEqual({ amount: expect.any(Number) });
    // a kind no statement can apply to is decided without Cedar
    const onlyPayments = compilePolicySet('test:payments', [{ id: 'p', text: POLICIES[4]! }]);
    expect(onlyPayments.kinds.get('tool.call')!.id).toBeNull();
    expect(decide(onlyPayments, { ...requests()[0]!, kind: 'tool.call' })).toMatchObject({ effect: 'deny', policyIds: [] });
  });

  it('leaves out what no policy reads', () => {
    const set = compilePolicySet('test:reads', [{ id: 'p', text: POLICIES[0]! }]);
    const input = requests()[0]!;
    const request = cedarRequest(input, set.kinds.get(input.kind)!.reads);
    expect(request.context).toEqual({ amount: input.amountMicros });
    // no policy tests membership: only the principal, with only its labels
    expect(request.entities).toEqual([{ uid: { type: 'Agent', id: 'agt_other' }, attrs: { labels: ['team=ops'] }, parents: [] }]);
    // a policy that tests membership gets the whole chain, linked
    const chained = compilePolicySet('test:chain', [{ id: 'p', text: POLICIES[0]! }, { id: 'q', text: 'permit(principal in User::"lead", action == Action::"model.call", resource);' }]);
    expect(cedarRequest(input, chained.kinds.get(input.kind)!.reads).entities).toEqual([
      { uid: { type: 'User', id: 'someone' }, attrs: {}, parents: [] },
      { uid: { type: 'Agent', id: 'agt_planner' }, attrs: {}, parents: [{ type: 'User', id: 'someone' }] },
      { uid: { type: 'Agent', id: 'agt_other' }, attrs: { labels: ['team=ops'] }, parents: [{ type: 'Agent', id: 'agt_planner' }] },
    ]);
  });

  it('keeps the attributes an entity literal reads, and only the fields of a record that are read', () => {
    const literal = compilePolicySet('test:literal', [{ id: 'p', text: POLICIES[6]! }]);
    expect(cedarRequest(requests()[0]!, literal.kinds.get('data.read')!.reads).entities[1]!.attrs).toMatchObject({ labels: ['team=search', 'env=prod'] });
    const nested = compilePolicySet('test:nested', [{ id: 'p', text: 'permit(principal, action, resource) when { context.intent.readOnly && context.intent.tools.isEmpty() };' }]);
    expect(cedarRequest(requests()[1]!, nested.kinds.get('tool.call')!.reads).context).toEqual({ intent: { readOnly: false, tools: [] } });
  });
});
