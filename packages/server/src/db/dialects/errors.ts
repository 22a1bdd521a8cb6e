/**
 * Whether a failed transaction may simply be run again: another writer got there first (a unique key
 * taken by a transaction that committed meanwhile), a deadlock or serialization failure on Postgres,
 * or a busy SQLite file. The only place outside a dialect file that reads database error codes.
 */
export function isRetryableConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    code === '23505' || // unique_violation
    code === '40P01' || // deadlock_detected
    code === '40001' || // serialization_failure
    code === 'SQLITE_BUSY' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}
