/**
 * What an import reads: users (and products) of an original app, in batches, whatever the
 * source is (a legacy database or a JSON Lines file). Values are as the source holds them;
 * import.records.ts checks each one.
 */
export interface SourceUser {
  /** Where the row came from, for the summary: `user id 7`, `line 12`. */
  ref: string;
  username: string;
  email: string | null;
  passwordHash: string | null;
  /** A base32 TOTP secret of an authenticator the user already has, or null. */
  totpSecret: string | null;
  role: string | null;
  emailVerified: boolean;
  createdAt: unknown;
  /** The original app sent this user emailed sign-in codes: carry that as the email factor. */
  emailFactor: boolean;
  /** The original app says 2FA is on, but it holds no secret Twofold could carry. */
  mfaWithoutSecret: boolean;
}

export interface SourceProduct {
  ref: string;
  /** The original id, recorded in products.legacy_id so a second run finds it. */
  legacyId: string;
  name: unknown;
  description: unknown;
  /** DECIMAL as the driver returns it (text on PostgreSQL and MySQL, a number on SQLite). */
  price: unknown;
  quantity: unknown;
}

/** A record that could not even be read (bad JSON, wrong field types). */
export interface InvalidRecord {
  ref: string;
  problem: string;
}

export type SourceRecord<T> = T | InvalidRecord;

export function isInvalid<T extends object>(record: SourceRecord<T>): record is InvalidRecord {
  return 'problem' in record;
}

export interface ImportSource {
  /** `products API`, `role-based app`, `email-code app`, `JSON Lines`. */
  readonly kind: string;
  /** The source with any password removed. */
  readonly display: string;
  /** Facts about the source worth telling the operator (what was left out and why). */
  readonly notes: string[];
  users(batchSize: number): AsyncIterable<Array<SourceRecord<SourceUser>>>;
  products(batchSize: number): AsyncIterable<Array<SourceRecord<SourceProduct>>>;
  close(): Promise<void>;
}

/**
 * The source named on the command line: a JSON Lines file (`.jsonl`, `.ndjson`, or `-` for
 * standard input) or an original app's database URL. Fails with one clear line when it cannot be read.
 */
export async function openImportSource(from: string): Promise<ImportSource> {
  if (from === '-' || /\.(jsonl|ndjson)$/i.test(from)) return (await import('./jsonl-source.js')).openJsonlSource(from);
  return (await import('./sql-source.js')).openSqlSource(from);
}
