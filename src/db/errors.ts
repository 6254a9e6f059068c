/**
 * Unique-constraint violations, recognised on each driver, so a race on a unique column
 * becomes a clean 409 on every database. Returns the violated index or key name, or null.
 */
export function uniqueViolation(error: unknown): string | null {
  if (typeof error !== 'object' || error === null) return null;
  const e = error as { code?: unknown; constraint?: unknown; message?: unknown; errno?: unknown };
  const message = typeof e.message === 'string' ? e.message : '';
  if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return message;
  if (e.code === '23505') return typeof e.constraint === 'string' ? e.constraint : message;
  if (e.code === 'ER_DUP_ENTRY' || e.errno === 1062) return message;
  return null;
}

/**
 * A write naming a row that does not exist (a foreign key), recognised on each driver: SQLite
 * `SQLITE_CONSTRAINT_FOREIGNKEY`, PostgreSQL `23503`, MySQL/MariaDB 1452 (ER_NO_REFERENCED_ROW_2).
 */
export function isForeignKeyViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; errno?: unknown };
  return (
    e.code === 'SQLITE_CONSTRAINT_FOREIGNKEY' ||
    e.code === '23503' ||
    e.code === 'ER_NO_REFERENCED_ROW_2' ||
    e.errno === 1452
  );
}

/**
 * The database chose this statement's transaction as a deadlock victim and rolled it back; running
 * the whole transaction again is the documented remedy (MySQL/MariaDB 1213 ER_LOCK_DEADLOCK "try
 * restarting transaction"; PostgreSQL 40P01 deadlock_detected). InnoDB takes gap locks for a DELETE
 * that finds no row, so two transactions deleting then inserting into one empty range deadlock.
 */
export function isDeadlock(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; errno?: unknown };
  return e.code === 'ER_LOCK_DEADLOCK' || e.errno === 1213 || e.code === '40P01';
}

/**
 * Runs `work` again when the database picked it as a deadlock victim, up to `attempts` times.
 * `work` is a whole transaction (transactionWithRetry in transaction.ts, which every transaction of
 * the server uses) or one statement on its own; never a statement inside a transaction, which the
 * rollback has already undone with everything before it.
 */
export async function retryOnDeadlock<T>(work: () => Promise<T>, options: { attempts?: number } = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isDeadlock(error) || attempt >= attempts) throw error;
    }
  }
}
