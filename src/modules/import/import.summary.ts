import type { ConflictPolicy, ProductAction, UserAction } from './import.plan.js';

/** Why records were left out, with a few examples each (a million skips must not fill the memory). */
export class SkipList {
  static readonly EXAMPLES = 20;
  readonly reasons = new Map<string, { count: number; examples: string[] }>();

  add(reason: string, example: string): void {
    const entry = this.reasons.get(reason) ?? { count: 0, examples: [] };
    entry.count += 1;
    if (entry.examples.length < SkipList.EXAMPLES) entry.examples.push(example);
    this.reasons.set(reason, entry);
  }

  get total(): number {
    let total = 0;
    for (const { count } of this.reasons.values()) total += count;
    return total;
  }
}

export interface Counts {
  read: number;
  imported: number;
  updated: number;
  /** Already in Twofold exactly as the source has them (a repeated import). */
  unchanged: number;
}

export interface ImportSummary {
  kind: string;
  source: string;
  dryRun: boolean;
  onConflict: ConflictPolicy;
  notes: string[];
  users: Counts & { totp: number; emailCodes: number };
  /** Roles Twofold does not have, mapped to `user`: role → how many users. */
  rolesMapped: Map<string, number>;
  products: Counts;
  skippedUsers: SkipList;
  skippedProducts: SkipList;
  elapsedMs: number;
  /** The process's peak resident memory (the source is streamed, so this stays flat as it grows). */
  peakMemoryMiB: number;
}

export function emptySummary(
  source: { kind: string; display: string; notes: string[] },
  options: { dryRun: boolean; onConflict: ConflictPolicy },
): ImportSummary {
  return {
    kind: source.kind,
    source: source.display,
    dryRun: options.dryRun,
    onConflict: options.onConflict,
    notes: [...source.notes],
    users: { read: 0, imported: 0, updated: 0, unchanged: 0, totp: 0, emailCodes: 0 },
    rolesMapped: new Map(),
    products: { read: 0, imported: 0, updated: 0, unchanged: 0 },
    skippedUsers: new SkipList(),
    skippedProducts: new SkipList(),
    elapsedMs: 0,
    peakMemoryMiB: 0,
  };
}

function count(actions: ReadonlyArray<UserAction | ProductAction>, counts: Counts, skipped: SkipList): void {
  for (const action of actions) {
    if (action.kind === 'insert') counts.imported += 1;
    else if (action.kind === 'update') counts.updated += 1;
    else if (action.kind === 'unchanged') counts.unchanged += 1;
    else skipped.add(action.reason, action.example);
  }
}

/** Adds a batch of `read` user records, planned as `actions` (a dry run counts what it would do). */
export function addUserBatch(summary: ImportSummary, read: number, actions: readonly UserAction[]): void {
  const { users } = summary;
  users.read += read;
  count(actions, users, summary.skippedUsers);
  // New users first, then updated ones: the order the roles are listed in.
  for (const kind of ['insert', 'update'] as const) {
    for (const action of actions) {
      if (action.kind !== kind) continue;
      const { user } = action;
      if (user.mappedFrom !== null)
        summary.rolesMapped.set(user.mappedFrom, (summary.rolesMapped.get(user.mappedFrom) ?? 0) + 1);
      if (user.totpSecret !== null) users.totp += 1;
      if (user.emailFactor) users.emailCodes += 1;
    }
  }
}

export function addProductBatch(summary: ImportSummary, read: number, actions: readonly ProductAction[]): void {
  summary.products.read += read;
  count(actions, summary.products, summary.skippedProducts);
}
