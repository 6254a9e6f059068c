import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../lib/paths.js';
import { estimatePasswordStrength } from '../../lib/password-strength.js';

// NIST SP 800-63B §5.1.1.2: at least 8 characters, allow at least 64, and reject
// passwords found in lists of commonly used or compromised passwords.
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

let commonPasswords: Set<string> | undefined;

/**
 * The 17,950 entries of 8 characters or more from zxcvbn-ts's `passwords` list
 * (@zxcvbn-ts/language-common 4.1.3, MIT), lower-cased: it contains the 10,000 most common
 * passwords of every length that this policy would otherwise allow.
 */
function loadCommonPasswords(): Set<string> {
  const text = readFileSync(path.join(PACKAGE_ROOT, 'src/modules/accounts/common-passwords.txt'), 'utf8');
  return new Set(text.split('\n').filter(Boolean));
}

/** Whose password it is: the username and address are words an attacker knows. */
export interface PasswordOwner {
  username: string;
  email?: string | null | undefined;
}

/**
 * Returns why the password is refused, or null when it is acceptable. A password built on the
 * owner's username or address is weaker (NIST SP 800-63B §5.1.1.2: "context-specific words, such
 * as the name of the service, the username, and derivatives thereof").
 */
export async function passwordProblem(password: string, owner: PasswordOwner): Promise<string | null> {
  // A lone UTF-16 surrogate has no UTF-8 form: two different ones would hash alike.
  if (/[\uD800-\uDFFF]/u.test(password)) return 'contains characters that are not valid text';
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return `must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (length > PASSWORD_MAX_LENGTH) return `must be at most ${PASSWORD_MAX_LENGTH} characters`;
  commonPasswords ??= loadCommonPasswords();
  if (commonPasswords.has(password.toLowerCase())) return 'is too common; choose a less predictable password';
  if (password.toLowerCase() === owner.username.toLowerCase()) return 'must not be the username';
  // The same estimator and threshold as the web UI's meter (src/lib/password-strength.ts), with its
  // reason: SP 800-63B §5.1.1.2 asks the verifier to say why a password was refused.
  const strength = await estimatePasswordStrength(password, [owner.username, ...(owner.email ? [owner.email] : [])]);
  if (!strength.acceptable)
    return ['is too easy to guess.', strength.warning, ...strength.suggestions].filter(Boolean).join(' ');
  return null;
}
