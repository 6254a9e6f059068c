import { isInvalid, type SourceProduct, type SourceRecord, type SourceUser } from './import-source.js';
import type { ExistingUser, UserChanges } from '../accounts/imported-users.repository.js';
import type { ExistingProduct } from '../products/imported-products.repository.js';
import { NO_PASSWORD, prepareProduct, prepareUser, type PreparedProduct, type PreparedUser } from './import.records.js';

/**
 * What an import does with one batch, decided without touching anything: no database, no clock,
 * no keys. The caller reads the batch and the Twofold state it needs, and import.apply.ts writes
 * what the plan says. Two steps, because which state to read depends on the first:
 * `screenUsers` checks the records on their own and against the rest of the source, then
 * `planUsers` decides each survivor against the accounts Twofold already has.
 */

export type ConflictPolicy = 'skip' | 'update';

/** Clashes with other records or with Twofold's accounts (as opposed to a problem of the record itself). */
export const CONFLICT = {
  exists: 'already in Twofold (usernames match case-insensitively); --on-conflict update overwrites them',
  emailTaken: 'email address already used by another Twofold account',
  duplicateUsername: 'the same username (case-insensitively) appears earlier in the source',
  duplicateEmail: 'the same email address appears earlier in the source',
} as const;
const CONFLICT_REASONS = new Set<string>(Object.values(CONFLICT));

/** `--strict` refuses a record that cannot be imported, but not one that only clashes. */
export function isConflict(reason: string): boolean {
  return CONFLICT_REASONS.has(reason);
}

export interface Skip {
  kind: 'skip';
  reason: string;
  /** How the summary names the record: `alice (user id 7)`, `line 12`. */
  example: string;
}

/** Account fields an update writes; import.apply.ts adds the time of the import. */
export type AccountChanges = Omit<UserChanges, 'updated_at' | 'imported_at'>;

export type UserAction =
  | { kind: 'insert'; user: PreparedUser }
  | {
      kind: 'update';
      user: PreparedUser;
      userId: number;
      changes: AccountChanges | null;
      totp: boolean;
      emailFactor: boolean;
    }
  | { kind: 'unchanged'; user: PreparedUser }
  | Skip;

export type ProductAction =
  | { kind: 'insert'; product: PreparedProduct }
  | { kind: 'update'; product: PreparedProduct; productId: number }
  | { kind: 'unchanged'; product: PreparedProduct }
  | Skip;

/** An enabled authenticator of an existing account; `secret` is unsealed only where the plan compares it. */
export interface ExistingTotp {
  createdAt: number;
  secret: string | null;
}

/** What Twofold holds for the accounts a screened batch names. */
export interface UserState {
  /** By normalised username. */
  accounts: ReadonlyMap<string, ExistingUser>;
  /** Account id by canonical email address. */
  emailOwners: ReadonlyMap<string, number>;
  /** By user id; unconfirmed enrolments are left out (they are no factor yet). */
  totp: ReadonlyMap<number, ExistingTotp>;
  /** Ids of accounts with the email factor. */
  emailFactor: ReadonlySet<number>;
}

/** Usernames and email addresses earlier batches of this run took (a dry run writes nothing to find them by). */
export interface Seen {
  usernames: ReadonlySet<string>;
  emails: ReadonlySet<string>;
}

export interface ScreenedUsers {
  skips: Skip[];
  accepted: PreparedUser[];
  /** What this batch adds to `Seen`. */
  usernames: string[];
  emails: string[];
}

function label(user: { username: string; ref: string }): string {
  return `${user.username} (${user.ref})`;
}

/** Each record on its own, then against the records before it in the source. */
export function screenUsers(records: ReadonlyArray<SourceRecord<SourceUser>>, seen: Seen): ScreenedUsers {
  const skips: Skip[] = [];
  const accepted: PreparedUser[] = [];
  const usernames = new Set<string>();
  const emails = new Set<string>();
  for (const record of records) {
    if (isInvalid(record)) {
      skips.push({ kind: 'skip', reason: record.problem, example: record.ref });
      continue;
    }
    const user = prepareUser(record);
    if ('problem' in user) {
      skips.push({ kind: 'skip', reason: user.problem, example: label(record) });
      continue;
    }
    if (seen.usernames.has(user.normalized) || usernames.has(user.normalized)) {
      skips.push({ kind: 'skip', reason: CONFLICT.duplicateUsername, example: label(user) });
      continue;
    }
    usernames.add(user.normalized);
    if (user.emailNormalized !== null && (seen.emails.has(user.emailNormalized) || emails.has(user.emailNormalized))) {
      skips.push({ kind: 'skip', reason: CONFLICT.duplicateEmail, example: label(user) });
      continue;
    }
    if (user.emailNormalized !== null) emails.add(user.emailNormalized);
    accepted.push(user);
  }
  return { skips, accepted, usernames: [...usernames], emails: [...emails] };
}

/** An authenticator enrolled in Twofold after the account was imported: newer than the retiring app's secret. */
export function enrolledInTwofold(
  account: Pick<ExistingUser, 'imported_at'>,
  factor: Pick<ExistingTotp, 'createdAt'> | undefined,
): boolean {
  return account.imported_at !== null && factor !== undefined && factor.createdAt > account.imported_at;
}

function decide(user: PreparedUser, state: UserState, onConflict: ConflictPolicy): UserAction {
  const row = state.accounts.get(user.normalized);
  const owner = user.emailNormalized === null ? undefined : state.emailOwners.get(user.emailNormalized);
  if (owner !== undefined && owner !== row?.id)
    return { kind: 'skip', reason: CONFLICT.emailTaken, example: label(user) };
  if (!row) return { kind: 'insert', user };
  if (onConflict === 'skip') {
    // An account an earlier run imported is this run's own work, not a clash (a repeated import).
    return row.imported_at !== null
      ? { kind: 'unchanged', user }
      : { kind: 'skip', reason: CONFLICT.exists, example: label(user) };
  }
  // What Twofold changed after an earlier import is newer than the retiring app's copy, and stays:
  // a password set or rehashed by Twofold (argon2id, no longer the imported hash) and an
  // authenticator enrolled in Twofold since (a factor younger than the import).
  const passwordChangedInTwofold =
    row.imported_at !== null && row.password_hash !== user.passwordHash && row.password_hash.startsWith('$argon2id$');
  const changes: AccountChanges = {
    email: user.email ?? row.email,
    email_normalized: user.emailNormalized ?? row.email_normalized,
    email_verified: user.email === null ? row.email_verified : user.emailVerified ? 1 : 0,
    password_hash:
      user.passwordHash === NO_PASSWORD || passwordChangedInTwofold ? row.password_hash : user.passwordHash,
    role: user.role,
  };
  const same =
    changes.email === row.email &&
    changes.email_verified === row.email_verified &&
    changes.password_hash === row.password_hash &&
    changes.role === row.role;
  const factor = state.totp.get(row.id);
  const totpSame = user.totpSecret === null || enrolledInTwofold(row, factor) || factor?.secret === user.totpSecret;
  const emailFactor = user.emailFactor && !state.emailFactor.has(row.id);
  if (same && totpSame && !emailFactor) return { kind: 'unchanged', user };
  return { kind: 'update', user, userId: row.id, changes: same ? null : changes, totp: !totpSame, emailFactor };
}

/** The batch's actions: the screening's skips first, then one per accepted user, in source order. */
export function planUsers(screened: ScreenedUsers, state: UserState, onConflict: ConflictPolicy): UserAction[] {
  return [...screened.skips, ...screened.accepted.map((user) => decide(user, state, onConflict))];
}

export interface ScreenedProducts {
  skips: Skip[];
  /** By original id; a later record with the same id replaces an earlier one. */
  accepted: Map<string, PreparedProduct>;
}

export function screenProducts(records: ReadonlyArray<SourceRecord<SourceProduct>>): ScreenedProducts {
  const skips: Skip[] = [];
  const accepted = new Map<string, PreparedProduct>();
  for (const record of records) {
    if (isInvalid(record)) {
      skips.push({ kind: 'skip', reason: record.problem, example: record.ref });
      continue;
    }
    const product = prepareProduct(record);
    if ('problem' in product) skips.push({ kind: 'skip', reason: product.problem, example: record.ref });
    else accepted.set(product.legacyId, product);
  }
  return { skips, accepted };
}

/** `existing`: Twofold's products by legacy_id. */
export function planProducts(
  screened: ScreenedProducts,
  existing: ReadonlyMap<string, ExistingProduct>,
  onConflict: ConflictPolicy,
): ProductAction[] {
  const actions: ProductAction[] = [...screened.skips];
  for (const product of screened.accepted.values()) {
    const row = existing.get(product.legacyId);
    if (!row) {
      actions.push({ kind: 'insert', product });
      continue;
    }
    const same =
      row.name === product.name &&
      row.description === product.description &&
      row.price_cents === product.priceCents &&
      row.quantity === product.quantity;
    // Matched by its original id: a repeated import leaves it (and any edits made in Twofold) alone.
    if (same || onConflict === 'skip') actions.push({ kind: 'unchanged', product });
    else actions.push({ kind: 'update', product, productId: row.id });
  }
  return actions;
}
