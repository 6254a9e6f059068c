import { accessSync, constants, createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { AppError } from '../../lib/errors.js';
import type { ImportSource, SourceRecord, SourceUser } from './import-source.js';

const NullableString = Type.Union([Type.String(), Type.Null()]);

/** One user per line (docs/migrating.md); other fields are ignored. */
export const JsonlUser = Type.Object({
  username: Type.String({ minLength: 1 }),
  email: Type.Optional(NullableString),
  password_hash: Type.Optional(NullableString),
  totp_secret: Type.Optional(NullableString),
  role: Type.Optional(NullableString),
  email_verified: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  created_at: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Null()])),
});

const checker = TypeCompiler.Compile(JsonlUser);

/** The first problem of a parsed line, or null when the line is a valid user. */
function problemOf(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  if (checker.Check(value)) return null;
  const first = checker.Errors(value).First();
  if (!first) return 'not a valid user';
  const field = first.path.replace(/^\//, '') || 'line';
  if (field === 'username' && !('username' in value)) return 'username is required';
  return `${field}: ${first.message.toLowerCase()}`;
}

export function parseJsonlUser(line: string, lineNumber: number): SourceRecord<SourceUser> {
  const ref = `line ${lineNumber}`;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ref, problem: 'not valid JSON' };
  }
  const problem = problemOf(value);
  if (problem) return { ref, problem };
  const user = checker.Decode(value);
  return {
    ref,
    username: user.username,
    email: user.email?.trim() || null,
    passwordHash: user.password_hash ?? null,
    totpSecret: user.totp_secret?.trim() || null,
    role: user.role ?? null,
    emailVerified: user.email_verified ?? false,
    createdAt: user.created_at ?? null,
    emailFactor: false,
    mfaWithoutSecret: false,
  };
}

/** A `.jsonl` file, or standard input for `-`: read line by line, never whole. */
export function openJsonlSource(from: string, stdin: Readable = process.stdin): ImportSource {
  const fromStdin = from === '-';
  if (!fromStdin) {
    try {
      if (statSync(from).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      accessSync(from, constants.R_OK);
    } catch (error) {
      const code = (error as { code?: string }).code;
      const why =
        code === 'ENOENT'
          ? 'no such file'
          : code === 'EACCES'
            ? 'permission denied'
            : code === 'EISDIR'
              ? 'it is a directory'
              : String(error);
      throw new AppError('not_found', { message: `Cannot read the source ${from}: ${why}.` });
    }
  }
  let stream: Readable | undefined;
  return {
    kind: 'JSON Lines',
    display: fromStdin ? 'standard input' : from,
    notes: [],
    async *users(batchSize) {
      stream = fromStdin ? stdin : createReadStream(from, { encoding: 'utf8' });
      const lines = createInterface({ input: stream, crlfDelay: Infinity });
      let batch: Array<SourceRecord<SourceUser>> = [];
      let lineNumber = 0;
      try {
        for await (const line of lines) {
          lineNumber += 1;
          if (line.trim() === '') continue;
          batch.push(parseJsonlUser(line.replace(/^\uFEFF/, ''), lineNumber));
          if (batch.length >= batchSize) {
            yield batch;
            batch = [];
          }
        }
      } catch (error) {
        const code = (error as { code?: string }).code;
        throw new AppError('service_unavailable', {
          message: `Cannot read the source ${from}: ${code === 'EACCES' ? 'permission denied' : String((error as Error).message)}.`,
        });
      }
      if (batch.length > 0) yield batch;
    },
    async *products() {
      // JSON Lines carries users only.
    },
    async close() {
      if (stream && !fromStdin) stream.destroy();
    },
  };
}
