import { isForeignKeyViolation } from '../../db/errors.js';
import { AppError } from '../../lib/errors.js';

/**
 * A sign-in writes rows that name its account (the session, the login challenge, the set-up grant);
 * when the account was deleted while the sign-in was under way, the foreign key to the users row
 * refuses them. To that sign-in the account is then unknown: it gets the answer of an unknown
 * account or a wrong password (401 invalid_credentials; OWASP Authentication Cheat Sheet, account
 * enumeration: one generic answer), never a server fault. The caller passes the write and
 * returns its result.
 */
export async function unknownIfAccountGone<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (isForeignKeyViolation(error)) throw new AppError('invalid_credentials');
    throw error;
  }
}
