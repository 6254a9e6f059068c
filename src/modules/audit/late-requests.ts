import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../lib/clock.js';
import type { AuditRepository, AuditRow } from './audit.repository.js';

/**
 * How long after an account's deletion an event of a request that was under way is still expected.
 * Such a request passed its checks before the deletion and writes its event once its work is done
 * (a password hash, a wait for its turn on the lockout budget, a mail): seconds, not an hour.
 */
export const LATE_WINDOW_MS = 60 * 60_000;
/** How often each server reads the deletions other processes made (another instance, the CLI). */
export const SWEEP_INTERVAL_MS = 60_000;
/**
 * A deletion's event is read again by later sweeps until it is this old: an event id is taken at the
 * INSERT, so a transaction that commits later can hold a lower id than one already read. No
 * deletion's transaction stays open this long.
 */
const CURSOR_MARGIN_MS = 5 * 60_000;
/** Users per UPDATE (one parameter each, far below every driver's limit). */
const CHUNK = 500;

export interface LateRequestEraser {
  /** This process deleted the account and its transaction committed: erase now, and in later flushes. */
  deleted(userId: number): Promise<void>;
  /** After a flush's INSERT: erases the rows of people deleted within the window (no query otherwise). */
  afterInsert(rows: Array<Omit<AuditRow, 'id'>>): Promise<void>;
  /** Reads the deletions other processes made and erases the late rows of every recent one. */
  sweep(): Promise<void>;
  /** Runs `sweep` every SWEEP_INTERVAL_MS until the returned function is called (it waits for a sweep under way). */
  startSweeping(): () => Promise<void>;
}

/**
 * A request that passed its checks just before its account was deleted writes its event after the
 * deletion erased the trail: that event must not bring back the person's IP address and browser
 * (GDPR Art. 17). The writer never asks the database about it: it remembers the accounts deleted
 * within LATE_WINDOW_MS, those of this process at once and those of other processes from the
 * periodic sweep, and only a batch holding one of them costs an UPDATE.
 *
 * Within one process nothing slips through: `deleted` remembers the user before its UPDATE, so a
 * flush whose INSERT ended before that UPDATE is erased by it, and one that ended later finds the
 * user remembered. A late row written by another process is erased by this process's next sweep
 * (within SWEEP_INTERVAL_MS), and that process remembers the user from its own next sweep on.
 */
export function createLateRequestEraser(deps: {
  repository: AuditRepository;
  clock: Clock;
  log: FastifyBaseLogger | undefined;
}): LateRequestEraser {
  const { repository, clock } = deps;
  /** User id → until when its late rows are erased (epoch ms). */
  const recent = new Map<number, number>();
  let cursor = 0;

  function remember(userId: number, untilMs: number): void {
    recent.set(userId, Math.max(untilMs, recent.get(userId) ?? 0));
  }

  function prune(nowMs: number): void {
    for (const [userId, untilMs] of recent) if (untilMs <= nowMs) recent.delete(userId);
  }

  async function forget(userIds: number[]): Promise<void> {
    for (let i = 0; i < userIds.length; i += CHUNK) await repository.forgetRequestsOf(userIds.slice(i, i + CHUNK));
  }

  async function sweep(): Promise<void> {
    const nowMs = clock.now().getTime();
    for (const deletion of await repository.deletionsAfter(cursor)) {
      remember(deletion.userId, deletion.at + LATE_WINDOW_MS);
      if (deletion.at <= nowMs - CURSOR_MARGIN_MS) cursor = Math.max(cursor, deletion.id);
    }
    prune(nowMs);
    await forget([...recent.keys()]);
  }

  return {
    async deleted(userId) {
      remember(userId, clock.now().getTime() + LATE_WINDOW_MS);
      await repository.forgetRequestsOf([userId]);
    },
    async afterInsert(rows) {
      if (recent.size === 0) return;
      prune(clock.now().getTime());
      const late = new Set<number>();
      for (const row of rows)
        if (row.user_id !== null && recent.has(row.user_id) && (row.ip !== null || row.user_agent !== null))
          late.add(row.user_id);
      if (late.size > 0) await forget([...late]);
    },
    sweep,
    startSweeping() {
      let running: Promise<void> = Promise.resolve();
      const timer = setInterval(() => {
        running = sweep().catch((error: unknown) =>
          deps.log?.error({ err: error }, 'could not sweep late audit events'),
        );
      }, SWEEP_INTERVAL_MS).unref();
      return async () => {
        clearInterval(timer);
        await running;
      };
    },
  };
}
