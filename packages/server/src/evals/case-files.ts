import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { CaseInput, type DatasetCase } from '@hangar/protocol';
import { ApiError } from '../http/api-error.js';

/**
 * Dataset files. JSONL: one case object per line (`{"id"?, "input", "expected"?, "metadata"?, "tags"?}`),
 * blank lines skipped. CSV: a header row naming the columns `input` (required), `expected`, `id`, `tags`
 * (separated by `;`) and `metadata.<key>` (one per metadata key). A cell that starts with `{`, `[` or `"`
 * is JSON; any other cell is a string; an empty `expected` or metadata cell is absent.
 */

function badLine(line: number, message: string, issues?: unknown): never {
  throw new ApiError('validation_failed', `line ${line}: ${message}`, { details: { line, issues: issues ?? [{ path: `line ${line}`, message }] } });
}

function parseCase(value: unknown, line: number): CaseInput {
  const parsed = CaseInput.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    badLine(line, `${first?.path.join('.') || 'case'}: ${first?.message ?? 'invalid'}`, parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  }
  return parsed.data;
}

/** Cases of a JSONL file, or validation_failed naming the first bad line (1-based). */
export function parseJsonl(text: string): CaseInput[] {
  const cases: CaseInput[] = [];
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    if (raw.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      badLine(i + 1, `not JSON (${(err as Error).message})`);
    }
    cases.push(parseCase(value, i + 1));
  }
  return cases;
}

function cellValue(cell: string, line: number, column: string): unknown {
  if (!/^\s*[[{"]/.test(cell)) return cell;
  try {
    return JSON.parse(cell);
  } catch {
    return badLine(line, `column ${column}: starts like JSON but is not JSON`);
  }
}

/** Cases of a CSV file (see above), or validation_failed naming the first bad line (1-based, header = 1). */
export function parseCsv(text: string): CaseInput[] {
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(text, { info: true, relax_column_count: false, skip_empty_lines: true, bom: true }) as unknown as typeof records;
  } catch (err) {
    const line = (err as { lines?: number }).lines ?? 1;
    badLine(line, `not valid CSV (${(err as Error).message})`);
  }
  const [header, ...rows] = records;
  if (!header) return [];
  const columns = header.record.map((c) => c.trim());
  if (!columns.includes('input')) badLine(1, 'the header has no input column');
  for (const c of columns) {
    if (!['input', 'expected', 'id', 'tags'].includes(c) && !/^metadata\..+/.test(c)) badLine(1, `unknown column '${c}' (use input, expected, id, tags, metadata.<key>)`);
  }
  return rows.map(({ record, info }) => {
    const line = info.lines;
    const value: Record<string, unknown> = {};
    const metadata: Record<string, unknown> = {};
    for (const [i, column] of columns.entries()) {
      const cell = record[i] ?? '';
      if (column === 'input') value.input = cellValue(cell, line, column);
      else if (column === 'expected') {
        if (cell !== '') value.expected = cellValue(cell, line, column);
      } else if (column === 'id') {
        if (cell !== '') value.id = cell;
      } else if (column === 'tags') {
        const tags = cell.split(';').map((t) => t.trim()).filter(Boolean);
        if (tags.length) value.tags = tags;
      } else if (cell !== '') metadata[column.slice('metadata.'.length)] = cellValue(cell, line, column);
    }
    if (Object.keys(metadata).length) value.metadata = metadata;
    return parseCase(value, line);
  });
}

export function toJsonl(cases: DatasetCase[]): string {
  return cases
    .map((c) => JSON.stringify({ id: c.id, input: c.input, ...(c.expected === null ? {} : { expected: c.expected }), metadata: c.metadata, tags: c.tags }))
    .map((l) => `${l}\n`)
    .join('');
}

function cellOf(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string' && !/^\s*[[{"]/.test(value)) return value;
  return JSON.stringify(value);
}

export function toCsv(cases: DatasetCase[]): string {
  const keys = [...new Set(cases.flatMap((c) => Object.keys(c.metadata)))].sort();
  const header = ['id', 'input', 'expected', 'tags', ...keys.map((k) => `metadata.${k}`)];
  const rows = cases.map((c) => [c.id, cellOf(c.input), cellOf(c.expected), c.tags.join(';'), ...keys.map((k) => cellOf(c.metadata[k]))]);
  return stringify([header, ...rows]);
}
