import type { ActionKind } from '../actions/action.js';

/** Which entity type each action acts on. */
export const RESOURCE_TYPES: Record<ActionKind, string> = {
  'model.call': 'Model',
  'embedding.call': 'Model',
  'tool.call': 'Tool',
  'sandbox.exec': 'Sandbox',
  'payment.create': 'Payee',
  'run.start': 'Run',
  'data.read': 'Data',
  'data.write': 'Data',
};

/**
 * Hangar's Cedar schema: who acts (Agent, User, Service, Key), what they do (one action per action
 * kind), on what (Model, Tool, …), and the context every request carries. Policies are validated
 * against it on save, in strict mode.
 */
export const CEDAR_SCHEMA = `// Principals. An agent is "in" the agent that delegated to it and in the user or service it acts for,
// so \`principal in User::"alice"\` matches every agent acting for alice, however deep.
entity User, Service, Key;
entity Agent in [Agent, User, Service] {
  name: String,
  owner: String,
  // "key=value" for each label
  labels: Set<String>,
};

// Resources
entity Model, Tool, Sandbox, Payee, Run, Data;

// The top-level arguments of an action, as tags with string values (non-strings as JSON):
// context.arguments.hasTag("path") && context.arguments.getTag("path") like "/tmp/*"
entity Arguments tags String;

// What the credential or the run declared it is going to do (declared is false when nothing was).
type Intent = {
  declared: Bool,
  readOnly: Bool,
  tools: Set<String>,
  domains: Set<String>,
  // -1 when no maximum was declared
  maxSpendMicros: Long,
  purpose: String,
};

type ActionContext = {
  arguments: Arguments,
  argsSha256: String,
  // the most the action may cost, in micro-units (1 USD = 1000000); 0 when not given
  amount: Long,
  // the model of a model or embedding call, "" otherwise
  model: String,
  // request time: unix seconds, and the UTC hour (0-23) and weekday (0 = Sunday)
  time: Long,
  hour: Long,
  weekday: Long,
  // 0 for a credential issued with a key, +1 per delegation; -1 when no credential is involved
  delegationDepth: Long,
  intent: Intent,
};

action "model.call" appliesTo { principal: [Agent, User, Service, Key], resource: [Model], context: ActionContext };
action "embedding.call" appliesTo { principal: [Agent, User, Service, Key], resource: [Model], context: ActionContext };
action "tool.call" appliesTo { principal: [Agent, User, Service, Key], resource: [Tool], context: ActionContext };
action "sandbox.exec" appliesTo { principal: [Agent, User, Service, Key], resource: [Sandbox], context: ActionContext };
action "payment.create" appliesTo { principal: [Agent, User, Service, Key], resource: [Payee], context: ActionContext };
action "run.start" appliesTo { principal: [Agent, User, Service, Key], resource: [Run], context: ActionContext };
action "data.read" appliesTo { principal: [Agent, User, Service, Key], resource: [Data], context: ActionContext };
action "data.write" appliesTo { principal: [Agent, User, Service, Key], resource: [Data], context: ActionContext };
`;
