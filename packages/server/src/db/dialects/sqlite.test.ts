import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openThreadDatabase } from '../database.js';
import { openSqlite } from './sqlite.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function write(direct: NonNullable<ReturnType<typeof openSqlite>['direct']>, rows: number) {
  const insert = direct.prepare('insert into t (v) values (?)');
  direct.exec('begin');
  for (let i = 0; i < rows; i++) insert.run(`${'x'.repeat(200)}${i}`);
  direct.exec('commit');
}

describe('SQLite with WAL checkpoints on a worker thread (as the server opens it)', () => {
  it('copies committed pages into the database file without a commit doing it, and closes cleanly', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hangar-ckpt-'));
    dirs.push(dir);
    const opened = openSqlite(dir, { checkpointEveryMs: 20 });
    const direct = opened.direct!;
    direct.exec('create table t (id integer primary key, v text)');
    const before = statSync(path.join(dir, 'hangar.db')).size;
    // ~2 MB: far below the 10,000-page backstop, so only the thread can have moved them into the file
    write(direct, 8000);
    const deadline = Date.now() + 5000;
    while (statSync(path.join(dir, 'hangar.db')).size < before + 1_500_000 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(statSync(path.join(dir, 'hangar.db')).size).toBeGreaterThan(before + 1_500_000);
    await opened.close();
    // every row is there for the next process
    const again = openSqlite(dir);
    expect(again.direct!.prepare('select count(*) as n from t').get()).toEqual({ n: 8000 });
    await again.close();
  });

  it('leaves checkpoints to commits when not asked (short-lived handles: the CLI, tests)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hangar-ckpt-'));
    dirs.push(dir);
    const opened = openSqlite(dir);
    const direct = opened.direct!;
    direct.exec('create table t (id integer primary key, v text)');
    const before = statSync(path.join(dir, 'hangar.db')).size;
    write(direct, 8000); // ~600 pages: below SQLite's automatic 1,000
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(statSync(path.join(dir, 'hangar.db')).size).toBe(before);
    await opened.close();
  });

  it("leaves a thread's commits to the checkpointer too (the gateway's record thread writes most rows)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hangar-ckpt-'));
    dirs.push(dir);
    const opened = openSqlite(dir, { checkpointEveryMs: 60_000 }); // a checkpointer that will not tick here
    opened.direct!.exec('create table t (id integer primary key, v text)');
    const thread = openThreadDatabase(opened.thread!);
    const before = statSync(path.join(dir, 'hangar.db')).size;
    write(thread.direct!, 20_000); // ~1,500 pages: past SQLite's automatic 1,000, below the 10,000 backstop
    expect(statSync(path.join(dir, 'hangar.db')).size).toBe(before);
    await thread.close();
    await opened.close();
  });
});
