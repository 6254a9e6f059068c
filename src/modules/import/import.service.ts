import type { Kysely } from 'kysely';
import { uniqueViolation } from '../../db/errors.js';
import type { Database } from '../../db/schema.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { ImportSource } from './import-source.js';
import { applyProducts, applyUsers } from './import.apply.js';
import {
  isConflict,
  planProducts,
  planUsers,
  screenProducts,
  screenUsers,
  type ConflictPolicy,
  type Skip,
} from './import.plan.js';
import type { Executor } from '../accounts/imported-users.repository.js';
import { loadProductState, loadUserState } from './import.state.js';
import { addProductBatch, addUserBatch, emptySummary, type ImportSummary } from './import.summary.js';

export type { ConflictPolicy } from './import.plan.js';
export { NO_PASSWORD, normalizeTotpSecret, toEpochMs } from './import.records.js';
export { SkipList, type Counts, type ImportSummary } from './import.summary.js';

export interface ImportOptions {
  dryRun: boolean;
  onConflict: ConflictPolicy;
  /** Any record that cannot be imported aborts the whole import: nothing is written. */
  strict: boolean;
  batchSize: number;
  onProgress?: (progress: { users: number; products: number }) => void;
}

export interface ImportDeps {
  db: Kysely<Database>;
  encryptionKey: Buffer;
  clock: Clock;
}

/**
 * `twofold import`: users and products of an original app into Twofold. Each batch is read,
 * planned (import.plan.ts: what to insert, update or skip, decided without side effects),
 * applied in one transaction (the whole run is one with `strict`; a dry run only reads), and
 * counted. Users who clash with Twofold accounts are skipped or, with `--on-conflict update`,
 * overwritten; a second run of the same import changes nothing.
 */
export async function runImport(
  deps: ImportDeps,
  source: ImportSource,
  options: ImportOptions,
): Promise<ImportSummary> {
  const started = performance.now();
  const summary = emptySummary(source, options);
  const { onConflict, dryRun } = options;
  // Usernames and emails already taken by this run (in a dry run nothing is written to find them by).
  const seen = { usernames: new Set<string>(), emails: new Set<string>() };
  const progress = (): void => options.onProgress?.({ users: summary.users.read, products: summary.products.read });

  /** One batch in its own transaction; a unique-index clash with a concurrent registration retries it. */
  async function inTransaction<T>(
    db: Executor,
    work: (executor: Executor) => Promise<T>,
    perBatch: boolean,
  ): Promise<T> {
    if (dryRun || !perBatch) return work(db);
    for (let attempt = 1; ; attempt++) {
      try {
        return await db.transaction().execute(work);
      } catch (error) {
        if (attempt >= 3 || uniqueViolation(error) === null) throw error;
      }
    }
  }

  function refuseIfStrict(skips: Skip[]): void {
    const invalid = options.strict ? skips.find((skip) => !isConflict(skip.reason)) : undefined;
    if (invalid)
      throw new AppError('validation_failed', {
        message: `--strict: ${invalid.example} cannot be imported (${invalid.reason}); nothing was imported.`,
      });
  }

  async function all(db: Executor, perBatch: boolean): Promise<void> {
    for await (const records of source.users(options.batchSize)) {
      const { screened, actions } = await inTransaction(
        db,
        async (trx) => {
          const screened = screenUsers(records, seen);
          refuseIfStrict(screened.skips);
          const actions = planUsers(
            screened,
            await loadUserState(trx, deps.encryptionKey, screened, onConflict),
            onConflict,
          );
          if (!dryRun)
            await applyUsers(trx, actions, {
              encryptionKey: deps.encryptionKey,
              nowMs: deps.clock.now().getTime(),
              sourceKind: source.kind,
            });
          return { screened, actions };
        },
        perBatch,
      );
      for (const name of screened.usernames) seen.usernames.add(name);
      for (const email of screened.emails) seen.emails.add(email);
      addUserBatch(summary, records.length, actions);
      progress();
    }
    for await (const records of source.products(options.batchSize)) {
      const actions = await inTransaction(
        db,
        async (trx) => {
          const screened = screenProducts(records);
          refuseIfStrict(screened.skips);
          const actions = planProducts(screened, await loadProductState(trx, screened), onConflict);
          if (!dryRun) await applyProducts(trx, actions, deps.clock.now().getTime());
          return actions;
        },
        perBatch,
      );
      addProductBatch(summary, records.length, actions);
      progress();
    }
  }

  if (options.strict && !dryRun) await deps.db.transaction().execute((trx) => all(trx, false));
  else await all(deps.db, true);
  summary.elapsedMs = performance.now() - started;
  summary.peakMemoryMiB = Math.round(process.resourceUsage().maxRSS / 1024);
  return summary;
}
