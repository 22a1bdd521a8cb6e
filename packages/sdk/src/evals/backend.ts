import type { HangarClient } from '../client.js';
import type { EvalBackend, EvalCase } from './types.js';

const PAGE = 1000;

/** The eval runner's view of Hangar's API, over the SDK client. */
export function createClientBackend(client: HangarClient): EvalBackend {
  return {
    async createExperiment(request) {
      const { credential, ...experiment } = await client.experiments.create(request);
      return { experiment, credential: credential?.token ?? null };
    },
    getExperiment: (id) => client.experiments.get(id),
    async *postedTrials(id) {
      let cursor: string | undefined;
      do {
        const page = await client.experiments.results(id, { cursor, limit: PAGE });
        for (const r of page.results) yield { caseId: r.caseId, trial: r.trial };
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    },
    async postResults(id, results) {
      await client.experiments.postResults(id, results);
    },
    finish: (id, status) => client.experiments.finish(id, status),
    async dataset(ref) {
      const dataset = await client.datasets.get(ref.dataset);
      const version = ref.version ?? dataset.latestVersion;
      if (version < 1) throw new Error(`Dataset ${dataset.name} has no cases yet: add some before running an eval on it.`);
      const first = await client.datasets.cases(dataset.id, { version, limit: PAGE });
      async function* cases(): AsyncIterable<EvalCase> {
        let page = first;
        for (;;) {
          for (const c of page.cases) {
            yield { id: c.id, input: c.input, ...(c.expected === null ? {} : { expected: c.expected }), metadata: c.metadata, tags: c.tags };
          }
          if (!page.nextCursor) return;
          page = await client.datasets.cases(dataset.id, { version, cursor: page.nextCursor, limit: PAGE });
        }
      }
      const caseCount = version === dataset.latestVersion ? dataset.caseCount : await countCases();
      async function countCases(): Promise<number> {
        const versions = await client.datasets.versions(dataset.id);
        return versions.versions.find((v) => v.version === version)?.caseCount ?? 0;
      }
      return { id: dataset.id, version, caseCount, cases: cases() };
    },
    async trace(traceId) {
      return (await client.traces.get(traceId)).spans;
    },
  };
}
