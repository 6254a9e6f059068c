import type { Insertable } from 'kysely';
import { uniqueViolation } from '../../db/errors.js';
import type { AuditEventsTable, Database } from '../../db/schema.js';
import type { Kysely } from 'kysely';
import type { Clock } from '../../lib/clock.js';
import { seal, unseal } from '../../lib/crypto.js';
import { AppError } from '../../lib/errors.js';
import { passwordScheme } from '../../lib/password-schemes.js';
import { normalizeUsername } from '../accounts/accounts.repository.js';
import { canonicalEmail, emailProblem } from '../accounts/email-address.js';
import { EMAIL_PATTERN } from '../accounts/accounts.schemas.js';
import type { AuditType } from '../audit/audit.service.js';
import { decimalToCents, priceToCents } from '../products/money.js';
import { totpSecretAad } from '../two-factor/two-factor.service.js';
import { isInvalid, type ImportSource, type SourceProduct, type SourceRecord, type SourceUser } from './import-source.js';
import { importRepository as repo, type Executor, type ExistingProduct, type ExistingUser, type UserChanges } from './import.repository.js';

export type ConflictPolicy = 'skip' | 'update';

export interface ImportOptions {
  dryRun: boolean;
  onConflict: ConflictPolicy;
  /** Any record that cannot be imported aborts the whole import: nothing is written. */
  strict: boolean;
  batchSize: number;
  onProgress?: (progress: { users: number; products: number }) => void;
}

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

  merge(other: SkipList): void {
    for (const [reason, { count, examples }] of other.reasons) {
      const entry = this.reasons.get(reason) ?? { count: 0, examples: [] };
      entry.count += count;
      entry.examples.push(...examples.slice(0, SkipList.EXAMPLES - entry.examples.length));
      this.reasons.set(reason, entry);
    }
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

export interface ImportDeps {
  db: Kysely<Database>;
  encryptionKey: Buffer;
  clock: Clock;
}

/** Problems that belong to the record itself (as opposed to a clash with what Twofold already holds). */
const CONFLICT = {
  exists: 'already in Twofold (usernames match case-insensitively); --on-conflict update overwrites them',
  emailTaken: 'email address already used by another Twofold account',
  duplicateUsername: 'the same username (case-insensitively) appears earlier in the source',
  duplicateEmail: 'the same email address appears earlier in the source',
} as const;
const CONFLICT_REASONS = new Set<string>(Object.values(CONFLICT));

const USERNAME_MAX = 50;
const EMAIL = new RegExp(EMAIL_PATTERN);
/** Kept for an imported user without a password hash who can reset it by email; no scheme matches it. */
export const NO_PASSWORD = '!imported-without-password';
/** RFC 4226 asks for 128 bits; pyotp's older 16-character secrets are 80 bits and still in use. */
const MIN_TOTP_SECRET_BITS = 80;

interface PreparedUser {
  ref: string;
  username: string;
  normalized: string;
  email: string | null;
  emailNormalized: string | null;
  passwordHash: string;
  totpSecret: string | null;
  role: 'user' | 'admin';
  emailVerified: boolean;
  createdAtMs: number;
  emailFactor: boolean;
  mappedFrom: string | null;
}

interface PreparedProduct {
  ref: string;
  legacyId: string;
  name: string;
  description: string;
  priceCents: number;
  quantity: number;
}

/** A base32 secret as authenticator apps take it: spaces and padding dropped, upper case. */
export function normalizeTotpSecret(secret: string): string | { problem: string } {
  const normalized = secret.replace(/[\s-]/g, '').replace(/=+$/, '').toUpperCase();
  if (!/^[A-Z2-7]+$/.test(normalized)) return { problem: 'TOTP secret is not base32' };
  if (normalized.length * 5 < MIN_TOTP_SECRET_BITS) return { problem: `TOTP secret is shorter than ${MIN_TOTP_SECRET_BITS} bits` };
  return normalized;
}

/** Epoch ms from a Date, epoch seconds or ms, ISO text or SQLAlchemy's naive UTC `YYYY-MM-DD HH:MM:SS[.ffffff]`. */
export function toEpochMs(value: unknown, fallback: number): number {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? fallback : value.getTime();
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return Math.round(value < 1e11 ? value * 1000 : value);
  if (typeof value === 'string' && value.trim() !== '') {
    let text = value.trim();
    if (/^\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(text)) text = `${text.replace(' ', 'T')}Z`;
    const parsed = Date.parse(text);
    if (!Number.isNaN(parsed)) return parsed;
  }
  return fallback;
}

function prepareUser(record: SourceUser, nowMs: number): PreparedUser | { problem: string } {
  const username = record.username.trim();
  if (username === '') return { problem: 'username is empty' };
  if (username.length > USERNAME_MAX) return { problem: `username is longer than ${USERNAME_MAX} characters` };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(username)) return { problem: 'username contains control characters' };
  // Sign-in treats an identifier with @ as an email address, so such a username could never be used.
  if (username.includes('@')) return { problem: 'username contains @ (sign-in would read it as an email address)' };
  const email = record.email;
  if (email !== null && (email.length > 254 || !EMAIL.test(email))) return { problem: 'email address is not valid' };
  const addressProblem = email === null ? null : emailProblem(email);
  if (addressProblem) return { problem: `email address ${addressProblem}` };
  let passwordHash = record.passwordHash?.trim() ?? '';
  if (passwordHash === '') {
    if (email === null) return { problem: 'no password hash and no email address to reset it with' };
    passwordHash = NO_PASSWORD;
  } else if (passwordScheme(passwordHash) === null) {
    return { problem: 'unrecognised password hash format (Twofold reads Werkzeug pbkdf2/scrypt, bcrypt and argon2)' };
  }
  if (record.mfaWithoutSecret) return { problem: '2FA is on in the source but it holds no TOTP secret to carry (importing would drop the second factor)' };
  let totpSecret: string | null = null;
  if (record.totpSecret !== null) {
    const normalized = normalizeTotpSecret(record.totpSecret);
    if (typeof normalized !== 'string') return normalized;
    totpSecret = normalized;
  }
  const sourceRole = record.role?.trim().toLowerCase() || 'user';
  const role = sourceRole === 'admin' ? 'admin' : 'user';
  return {
    ref: record.ref,
    username,
    normalized: normalizeUsername(username),
    email,
    emailNormalized: email === null ? null : canonicalEmail(email),
    passwordHash,
    totpSecret,
    role,
    emailVerified: record.emailVerified && email !== null,
    createdAtMs: toEpochMs(record.createdAt, nowMs),
    emailFactor: record.emailFactor,
    mappedFrom: sourceRole === role ? null : sourceRole,
  };
}

function prepareProduct(record: SourceProduct): PreparedProduct | { problem: string } {
  const name = typeof record.name === 'string' ? record.name.trim() : '';
  if (name === '' || name.length > 100) return { problem: 'name is empty or longer than 100 characters' };
  const description = typeof record.description === 'string' ? record.description : '';
  if (description.length > 255) return { problem: 'description is longer than 255 characters' };
  const price = record.price;
  const priceCents = typeof price === 'string' ? decimalToCents(price) : typeof price === 'number' ? priceToCents(price) : null;
  if (priceCents === null) return { problem: 'price is not an amount from 0 to 99999999.99 with at most two decimals' };
  const quantity = typeof record.quantity === 'bigint' ? Number(record.quantity) : typeof record.quantity === 'string' && /^\d+$/.test(record.quantity) ? Number(record.quantity) : record.quantity;
  if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 0 || quantity > 2_147_483_647) return { problem: 'quantity is not a whole number from 0 to 2147483647' };
  return { ref: record.ref, legacyId: record.legacyId, name, description, priceCents, quantity };
}

function label(user: { username: string; ref: string }): string {
  return `${user.username} (${user.ref})`;
}

interface UserBatchResult {
  counts: ImportSummary['users'];
  rolesMapped: Map<string, number>;
  skipped: SkipList;
  usernames: string[];
  emails: string[];
}

/**
 * `twofold import`: users and products of an original app into Twofold. Each batch is
 * one transaction (the whole run is one with `strict`); a dry run only reads. Users who clash
 * with Twofold accounts are skipped or, with `--on-conflict update`, overwritten; a second run
 * of the same import changes nothing.
 */
export async function runImport(deps: ImportDeps, source: ImportSource, options: ImportOptions): Promise<ImportSummary> {
  const started = performance.now();
  const nowMs = (): number => deps.clock.now().getTime();
  const summary: ImportSummary = {
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
  // Usernames and emails already taken by this run (in a dry run nothing is written to find them by).
  const seenUsernames = new Set<string>();
  const seenEmails = new Set<string>();

  function refuseIfStrict(skipped: SkipList): void {
    if (!options.strict) return;
    const invalid = [...skipped.reasons].filter(([reason]) => !CONFLICT_REASONS.has(reason));
    if (invalid.length === 0) return;
    const [reason, { examples }] = invalid[0] as [string, { examples: string[] }];
    throw new AppError('validation_failed', { message: `--strict: ${examples[0] ?? 'a record'} cannot be imported (${reason}); nothing was imported.` });
  }

  async function userBatch(db: Executor, records: Array<SourceRecord<SourceUser>>): Promise<UserBatchResult> {
    const result: UserBatchResult = { counts: { read: records.length, imported: 0, updated: 0, unchanged: 0, totp: 0, emailCodes: 0 }, rolesMapped: new Map(), skipped: new SkipList(), usernames: [], emails: [] };
    const { skipped } = result;
    const batchUsernames = new Set<string>();
    const batchEmails = new Set<string>();
    const accepted: PreparedUser[] = [];
    const now = nowMs();
    for (const record of records) {
      if (isInvalid(record)) {
        skipped.add(record.problem, record.ref);
        continue;
      }
      const user = prepareUser(record, now);
      if ('problem' in user) {
        skipped.add(user.problem, label(record));
        continue;
      }
      if (seenUsernames.has(user.normalized) || batchUsernames.has(user.normalized)) {
        skipped.add(CONFLICT.duplicateUsername, label(user));
        continue;
      }
      batchUsernames.add(user.normalized);
      if (user.emailNormalized !== null && (seenEmails.has(user.emailNormalized) || batchEmails.has(user.emailNormalized))) {
        skipped.add(CONFLICT.duplicateEmail, label(user));
        continue;
      }
      if (user.emailNormalized !== null) batchEmails.add(user.emailNormalized);
      accepted.push(user);
    }
    result.usernames = [...batchUsernames];
    result.emails = [...batchEmails];
    refuseIfStrict(skipped);

    const existing = new Map<string, ExistingUser>((await repo.usersByUsername(db, accepted.map((u) => u.normalized))).map((row) => [row.username_normalized, row]));
    const emailOwners = new Map(
      (await repo.userIdsByEmail(db, accepted.flatMap((u) => (u.emailNormalized === null ? [] : [u.emailNormalized])))).map((row) => [row.email_normalized, row.id]),
    );
    const existingIds = [...existing.values()].map((row) => row.id);
    const totpOf = new Map((await repo.totpSecrets(db, existingIds)).map((row) => [row.user_id, row]));
    const emailFactorOf = new Set(await repo.emailFactorUsers(db, existingIds));

    const inserts: PreparedUser[] = [];
    const updates: Array<{ user: PreparedUser; row: ExistingUser; changes: UserChanges | null; totp: boolean; emailFactor: boolean }> = [];
    for (const user of accepted) {
      const row = existing.get(user.normalized);
      const owner = user.emailNormalized === null ? undefined : emailOwners.get(user.emailNormalized);
      if (owner !== undefined && owner !== row?.id) {
        skipped.add(CONFLICT.emailTaken, label(user));
        continue;
      }
      if (!row) {
        inserts.push(user);
        continue;
      }
      if (options.onConflict === 'skip') {
        // An account an earlier run imported is this run's own work, not a clash (a repeated import).
        if (row.imported_at !== null) result.counts.unchanged += 1;
        else skipped.add(CONFLICT.exists, label(user));
        continue;
      }
      // What Twofold changed after an earlier import is newer than the retiring app's copy, and stays:
      // a password set or rehashed by Twofold (argon2id, no longer the imported hash) and an
      // authenticator enrolled in Twofold since (a factor younger than the import).
      const importedAt = row.imported_at;
      const passwordChangedInTwofold = importedAt !== null && row.password_hash !== user.passwordHash && row.password_hash.startsWith('$argon2id$');
      const changes: UserChanges = {
        email: user.email ?? row.email,
        email_normalized: user.emailNormalized ?? row.email_normalized,
        email_verified: user.email === null ? row.email_verified : user.emailVerified ? 1 : 0,
        password_hash: user.passwordHash === NO_PASSWORD || passwordChangedInTwofold ? row.password_hash : user.passwordHash,
        role: user.role,
        updated_at: now,
        imported_at: now,
      };
      const same =
        changes.email === row.email && changes.email_verified === row.email_verified && changes.password_hash === row.password_hash && changes.role === row.role;
      const current = totpOf.get(row.id);
      const enrolledInTwofold = importedAt !== null && current?.confirmed_at != null && current.created_at > importedAt;
      const totpSame =
        user.totpSecret === null ||
        enrolledInTwofold ||
        (current?.confirmed_at != null && unseal(deps.encryptionKey, current.secret_sealed, totpSecretAad(row.id)) === user.totpSecret);
      const emailFactor = user.emailFactor && !emailFactorOf.has(row.id);
      if (same && totpSame && !emailFactor) {
        result.counts.unchanged += 1;
        continue;
      }
      updates.push({ user, row, changes: same ? null : changes, totp: !totpSame, emailFactor });
    }

    for (const user of [...inserts, ...updates.map((u) => u.user)]) {
      if (user.mappedFrom !== null) result.rolesMapped.set(user.mappedFrom, (result.rolesMapped.get(user.mappedFrom) ?? 0) + 1);
      if (user.totpSecret !== null) result.counts.totp += 1;
      if (user.emailFactor) result.counts.emailCodes += 1;
    }
    result.counts.imported = inserts.length;
    result.counts.updated = updates.length;
    if (options.dryRun) return result;

    await repo.insertUsers(
      db,
      inserts.map((u) => ({
        username: u.username,
        username_normalized: u.normalized,
        email: u.email,
        email_normalized: u.emailNormalized,
        email_verified: u.emailVerified ? 1 : 0,
        password_hash: u.passwordHash,
        role: u.role,
        created_at: u.createdAtMs,
        updated_at: now,
        imported_at: now,
      })),
    );
    const idOf = new Map((await repo.usersByUsername(db, inserts.map((u) => u.normalized))).map((row) => [row.username_normalized, row.id]));
    const created = inserts.map((user) => ({ user, id: idOf.get(user.normalized) as number }));
    for (const { row, changes } of updates) if (changes) await repo.updateUser(db, row.id, changes);
    const factors = [...created.filter(({ user }) => user.totpSecret !== null), ...updates.filter((u) => u.totp).map((u) => ({ user: u.user, id: u.row.id }))];
    await repo.replaceTotp(db, factors.map(({ user, id }) => ({ userId: id, secretSealed: seal(deps.encryptionKey, user.totpSecret as string, totpSecretAad(id)) })), now);
    await repo.enableEmailFactor(db, [...created.filter(({ user }) => user.emailFactor).map(({ id }) => id), ...updates.filter((u) => u.emailFactor).map((u) => u.row.id)], now);
    const type: AuditType = 'user.imported';
    const event = (id: number, user: PreparedUser, action: string): Insertable<AuditEventsTable> => ({
      at: now,
      type,
      user_id: id,
      ip: null,
      user_agent: 'twofold-cli',
      detail: JSON.stringify({ source: source.kind, action, totp: user.totpSecret !== null, email_codes: user.emailFactor }),
    });
    await repo.insertAuditEvents(db, [...created.map(({ user, id }) => event(id, user, 'created')), ...updates.map(({ user, row }) => event(row.id, user, 'updated'))]);
    return result;
  }

  async function productBatch(db: Executor, records: Array<SourceRecord<SourceProduct>>): Promise<{ counts: Counts; skipped: SkipList }> {
    const counts: Counts = { read: records.length, imported: 0, updated: 0, unchanged: 0 };
    const skipped = new SkipList();
    const accepted = new Map<string, PreparedProduct>();
    for (const record of records) {
      if (isInvalid(record)) {
        skipped.add(record.problem, record.ref);
        continue;
      }
      const product = prepareProduct(record);
      if ('problem' in product) skipped.add(product.problem, record.ref);
      else accepted.set(product.legacyId, product);
    }
    refuseIfStrict(skipped);
    const existing = new Map<string, ExistingProduct>((await repo.productsByLegacyId(db, [...accepted.keys()])).map((row) => [row.legacy_id as string, row]));
    const now = nowMs();
    const inserts: PreparedProduct[] = [];
    for (const product of accepted.values()) {
      const row = existing.get(product.legacyId);
      if (!row) {
        inserts.push(product);
        continue;
      }
      const same = row.name === product.name && row.description === product.description && row.price_cents === product.priceCents && row.quantity === product.quantity;
      if (same || options.onConflict === 'skip') {
        // Matched by its original id: a repeated import leaves it (and any edits made in Twofold) alone.
        counts.unchanged += 1;
        continue;
      }
      counts.updated += 1;
      if (!options.dryRun) await repo.updateProduct(db, row.id, { name: product.name, description: product.description, price_cents: product.priceCents, quantity: product.quantity }, now);
    }
    counts.imported = inserts.length;
    if (!options.dryRun) {
      await repo.insertProducts(
        db,
        inserts.map((p) => ({ name: p.name, description: p.description, price_cents: p.priceCents, quantity: p.quantity, created_by: null, created_at: now, updated_at: now, legacy_id: p.legacyId })),
      );
    }
    return { counts, skipped };
  }

  /** One batch in its own transaction; a unique-index clash with a concurrent registration retries it. */
  async function inTransaction<T>(db: Executor, work: (executor: Executor) => Promise<T>, perBatch: boolean): Promise<T> {
    if (options.dryRun || !perBatch) return work(db);
    for (let attempt = 1; ; attempt++) {
      try {
        return await db.transaction().execute(work);
      } catch (error) {
        if (attempt >= 3 || uniqueViolation(error) === null) throw error;
      }
    }
  }

  const progress = (): void => options.onProgress?.({ users: summary.users.read, products: summary.products.read });

  async function all(db: Executor, perBatch: boolean): Promise<void> {
    for await (const records of source.users(options.batchSize)) {
      const result = await inTransaction(db, (executor) => userBatch(executor, records), perBatch);
      for (const name of result.usernames) seenUsernames.add(name);
      for (const email of result.emails) seenEmails.add(email);
      for (const key of Object.keys(result.counts) as Array<keyof ImportSummary['users']>) summary.users[key] += result.counts[key];
      for (const [role, n] of result.rolesMapped) summary.rolesMapped.set(role, (summary.rolesMapped.get(role) ?? 0) + n);
      summary.skippedUsers.merge(result.skipped);
      progress();
    }
    for await (const records of source.products(options.batchSize)) {
      const result = await inTransaction(db, (executor) => productBatch(executor, records), perBatch);
      for (const key of Object.keys(result.counts) as Array<keyof Counts>) summary.products[key] += result.counts[key];
      summary.skippedProducts.merge(result.skipped);
      progress();
    }
  }

  if (options.strict && !options.dryRun) await deps.db.transaction().execute((trx) => all(trx, false));
  else await all(deps.db, true);
  summary.elapsedMs = performance.now() - started;
  summary.peakMemoryMiB = Math.round(process.resourceUsage().maxRSS / 1024);
  return summary;
}
