/**
 * A LIKE pattern matching `text` anywhere, case-insensitively against a lower-cased column: `%`,
 * `_` and the escape character itself are escaped for `LIKE … ESCAPE '!'`, which reads the same on
 * SQLite, PostgreSQL and MySQL (a backslash escape does not: MySQL treats it specially in strings).
 */
export function likeContains(text: string): string {
  return `%${text.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`;
}
