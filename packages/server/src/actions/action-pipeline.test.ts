import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBlobStore } from '../blobs/blob-store.js';
import { openTestDatabase, type TestDatabase } from '../db/test-databases.js';
import { ApiError } from '../http/api-error.js';
import { createJournal, type Journal } from '../journal/journal-service.js';
import type { Action } from './action.js';
import { actionStream, createActionPipeline, type Stage } from './action-pipeline.js';
import { defaultPolicyStage } from './default-policy.js';

const call: Action = {
  kind: 'model.call',
  projectId: 'p1',
  actor: { principals: [{ type: 'key', id: 'key_1' }], keyId: 'key_1' },
  resource: 'hangar/echo',
  args: { messages: [{ role: 'user', content: 'hi' }] },
  maxCostMicros: 500,
};

describe('action pipeline', () => {
  let t: TestDatabase;
  let journal: Journal;
  let log: string[];

  const tracking = (name: string): Stage => ({
    name,
    async before() {
      log.push(`${name}.before`);
    },
    async after(_ctx, result) {
      log.push(`${name}.after:${result.ok ? 'ok' : 'failed'}:${result.costMicros}`);
    },
  });
  const events = async () => (await journal.read('p1', actionStream(call), 0, 100)).events;

  beforeEach(async () => {
    t = await openTestDatabase('sqlite');
    journal = createJournal({ db: t.db, blobs: createBlobStore({ dir: t.blobDir }) });
    log = [];
  });
  afterEach(async () => {
    await t.close();
  });

  it('runs stages in order, settles in reverse, and records one action event', async () => {
    const pipeline = createActionPipeline({ db: t.db, journal, stages: [defaultPolicyStage(), tracking('hold'), tracking('meter')] });
    const value = await pipeline.run(call, async (ctx) => {
      log.push('execute');
      ctx.details.route = 'echo';
      return { value: 'hello', costMicros: 120 };
    });
    expect(value).toBe('hello');
    expect(log).toEqual(['hold.before', 'meter.before', 'execute', 'meter.after:ok:120', 'hold.after:ok:120']);
    const [event] = await events();
    expect(event!.type).toBe('action.ok');
    expect(event!.payload).toMatchObject({
      kind: 'model.call',
      resource: 'hangar/echo',
      actor: call.actor,
      decision: { effect: 'allow', policyIds: [] },
      outcome: { status: 'ok' },
      route: 'echo',
    });
    expect(event!.actor).toEqual({ type: 'key', id: 'key_1' });
  });

  it('records a refusal with its reason, and never executes', async () => {
    const pipeline = createActionPipeline({ db: t.db, journal, stages: [defaultPolicyStage(), tracking('hold')] });
    const tool: Action = { ...call, kind: 'tool.call', resource: 'shell' };
    let executed = false;
    await expect(
      pipeline.run(tool, async () => {
        executed = true;
        return { value: null, costMicros: null };
      }),
    ).rejects.toMatchObject({ code: 'policy_denied' });
    expect(executed).toBe(false);
    expect(log).toEqual([]); // the hold stage was never entered, so nothing to release
    const [event] = await events();
    expect(event!.type).toBe('action.denied');
    expect(event!.payload).toMatchObject({
      kind: 'tool.call',
      decision: { effect: 'deny', reason: 'no policy allows tool.call' },
      outcome: { status: 'denied', code: 'policy_denied' },
    });
  });

  it('releases entered stages and records the error when the executor fails', async () => {
    const pipeline = createActionPipeline({ db: t.db, journal, stages: [tracking('hold')] });
    await expect(
      pipeline.run(call, async () => {
        throw new ApiError('unavailable', 'upstream down');
      }),
    ).rejects.toThrow('upstream down');
    expect(log).toEqual(['hold.before', 'hold.after:failed:null']);
    expect((await events())[0]!.payload).toMatchObject({ outcome: { status: 'error', code: 'unavailable', message: 'upstream down' } });
  });

  it('a stage that refuses after others entered unwinds those others', async () => {
    const refuse: Stage = {
      name: 'budget',
      async before() {
        throw new ApiError('forbidden', 'over budget');
      },
    };
    const pipeline = createActionPipeline({ db: t.db, journal, stages: [tracking('first'), refuse] });
    await expect(pipeline.run(call, async () => ({ value: 1, costMicros: 0 }))).rejects.toThrow('over budget');
    expect(log).toEqual(['first.before', 'first.after:failed:null']);
  });

  it("commits the executor's extra writes with the record; if they fail, the action is still recorded", async () => {
    const pipeline = createActionPipeline({ db: t.db, journal, stages: [] });
    const value = await pipeline.run(call, async () => ({
      value: 1,
      costMicros: 0,
      alsoRecord: async (trx) => {
        await trx.insertInto('organizations').values({ id: 'org_x', name: 'x', created_at: 'now' }).execute();
        throw new Error('span write failed');
      },
    }));
    expect(value).toBe(1);
    const recorded = await events();
    expect(recorded).toHaveLength(1);
    expect(recorded[0]!.payload).toMatchObject({ outcome: { status: 'ok' }, alsoRecordError: 'span write failed' });
    // the failed extra write was rolled back with its transaction
    expect(await t.db.selectFrom('organizations').selectAll().where('id', '=', 'org_x').execute()).toEqual([]);
  });
});
