import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * One module owns each table (docs/architecture.md, "Who owns which table"): only its files name the
 * table in a query; another module asks the owner through a function that says what it does. This
 * reads the server's sources and finds every table a query names — `selectFrom`, `updateTable`,
 * `insertInto`, `deleteFrom`, `replaceInto`, `mergeInto`, the joins, `insertWithId`, and the
 * `from`/`join`/`update`/`into` of raw `sql` templates — and fails when one is not its owner's.
 * A table name held in a variable (`deleteFrom(table)`) is not seen.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Table → the module of src/modules that alone names it in a query. */
const OWNERS: Record<string, string> = {
  users: 'accounts',
  sessions: 'sessions',
  refresh_tokens: 'sessions',
  products: 'products',
  product_counts: 'products',
  totp_factors: 'two-factor',
  email_factors: 'two-factor',
  email_codes: 'two-factor',
  backup_codes: 'two-factor',
  mfa_flows: 'two-factor',
  email_proofs: 'email-proof',
  audit_events: 'audit',
  rate_counters: 'rate-limit',
  login_lockouts: 'lockout',
  account_tokens: 'recovery',
  email_changes: 'recovery',
  passkeys: 'passkeys',
  webauthn_challenges: 'passkeys',
  oidc_payloads: 'oidc',
  oidc_clients: 'oidc',
};

/**
 * Not the server's own tables: the importer reads the databases of the original apps, whose table
 * may be `users` too.
 */
const SOURCE_DATABASE_READERS = new Set(['src/modules/import/sql-source.ts']);

/** Migrations are frozen in time: they create and convert every table, and stay as they were written. */
const FROZEN = 'src/db/migrations/';

const QUERY_CALL =
  /\b(?:selectFrom|updateTable|insertInto|deleteFrom|replaceInto|mergeInto|(?:inner|left|right|full|cross)Join(?:Lateral)?|insertWithId)\(\s*(?:[\w.]+\s*,\s*)*'(\w+)(?:\s+as\s+\w+)?'/g;
const SQL_TEMPLATE = /\bsql(?:<[^`]*?>)?`([^`]*)`/g;
const RAW_TABLE = /\b(?:from|join|update|into)\s+["`]?(\w+)/gi;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

interface Use {
  file: string;
  line: number;
  table: string;
}

/** Every table a query of `text` names, with its line. */
function tablesNamed(file: string, text: string): Use[] {
  const lineOf = (index: number): number => text.slice(0, index).split('\n').length;
  const uses: Use[] = [];
  for (const match of text.matchAll(QUERY_CALL)) uses.push({ file, line: lineOf(match.index), table: match[1]! });
  for (const template of text.matchAll(SQL_TEMPLATE)) {
    for (const match of template[1]!.matchAll(RAW_TABLE)) {
      uses.push({ file, line: lineOf(template.index + match.index), table: match[1]! });
    }
  }
  return uses;
}

/** The module a source file belongs to: src/modules/<name>/…; elsewhere in src, none (null). */
function moduleOf(file: string): string | null {
  const match = /^src\/modules\/([^/]+)\//.exec(file);
  return match ? match[1]! : null;
}

const uses = sources(join(ROOT, 'src'))
  .map((path) => relative(ROOT, path).split(sep).join('/'))
  .filter((file) => !file.startsWith(FROZEN) && !SOURCE_DATABASE_READERS.has(file))
  .flatMap((file) => tablesNamed(file, readFileSync(join(ROOT, file), 'utf8')));

const schemaTables = [
  ...(
    /export interface Database \{([^}]*)\}/.exec(readFileSync(join(ROOT, 'src/db/schema.ts'), 'utf8'))?.[1] ?? ''
  ).matchAll(/^\s*(\w+):/gm),
].map((match) => match[1]!);

describe('table ownership', () => {
  it('gives every table of the schema exactly one owner', () => {
    expect(schemaTables.length).toBeGreaterThan(10);
    expect(Object.keys(OWNERS).sort()).toEqual([...schemaTables].sort());
  });

  it('names each owned table in queries of its owner only', () => {
    const strangers = uses
      .filter(({ file, table }) => table in OWNERS && moduleOf(file) !== OWNERS[table])
      .map(({ file, line, table }) => `${file}:${line} names ${table}, which ${OWNERS[table]} owns`);
    expect(strangers).toEqual([]);
  });

  it('sees every owner query its tables (the scan finds what it looks for)', () => {
    const seen = new Set(uses.map(({ file, table }) => `${table} ${moduleOf(file)}`));
    expect(Object.entries(OWNERS).filter(([table, owner]) => !seen.has(`${table} ${owner}`))).toEqual([]);
  });

  it('recognises the forms of a query', () => {
    const text = [
      "db.selectFrom('users').selectAll()",
      ".innerJoin('users as u', 'u.id', 's.user_id')",
      'insertWithId(trx, dialect, "x", {}); insertWithId(db, dialect, \'users\', {',
      "trx\n  .updateTable(\n    'users'\n  )",
      'sql<number>`select 1 from users where id = ${id}`',
      "db.selectFrom('products as p').where('p.name', '=', 'users')",
    ].join('\n');
    const found = tablesNamed('x.ts', text).sort((a, b) => a.line - b.line);
    expect(found.map(({ line, table }) => `${line} ${table}`)).toEqual([
      '1 users',
      '2 users',
      '3 users',
      '5 users',
      '8 users',
      '9 products',
    ]);
  });
});
