/**
 * The one password-strength estimator of Twofold, shared by the server's policy
 * (src/modules/accounts/password-policy.ts) and the web UI's live meter
 * (web/src/components/passwordStrength.ts), so both judge a password alike.
 *
 * zxcvbn (Wheeler, "zxcvbn: Low-Budget Password Strength Estimation", USENIX Security 2016) in
 * its maintained TypeScript port, @zxcvbn-ts v4, with the common and English dictionaries:
 * NIST SP 800-63B §5.1.1.2 asks verifiers to refuse dictionary words, repetitive or sequential
 * characters (`aaaaaaaa`, `1234abcd`), context-specific words such as the username, and passwords
 * from breach lists, and to give the reason; zxcvbn recognises each of those and says which.
 *
 * No Node or browser API here: the web build (Vite) imports this file as it is.
 */
import type { ZxcvbnFactory } from '@zxcvbn-ts/core';

/** zxcvbn scores 0-4; 3 is "safely unguessable: moderate protection from offline slow-hash scenario" (its README). */
export const MIN_PASSWORD_SCORE = 3;

/**
 * zxcvbn's matching grows faster than the length of its input (measured: about 0.7 s of CPU for 100
 * random characters with the library's defaults), and it runs on the request thread. Only the first
 * 64 characters are estimated (a password whose first 64 characters are strong is strong), and the
 * l33t matcher tries at most 10 substitutions (it still sees `p4ssw0rd`): together about 0.1 s at
 * worst, 1-20 ms for ordinary passwords.
 */
export const STRENGTH_INPUT_MAX = 64;
const L33T_MAX_SUBSTITUTIONS = 10;

export interface PasswordStrength {
  /** 0 (too guessable) to 4 (very unguessable). */
  score: 0 | 1 | 2 | 3 | 4;
  /** Score at least MIN_PASSWORD_SCORE. */
  acceptable: boolean;
  /** zxcvbn's warning (why it is weak), or '' when it has none. */
  warning: string;
  /** zxcvbn's suggestions, in English. */
  suggestions: string[];
}

let estimator: Promise<ZxcvbnFactory> | undefined;

/**
 * Loads the library and its dictionaries once, on first use: they are about 1.5 MB of word lists,
 * so neither the server's start nor the web UI's first page waits for them (dynamic imports become
 * a separate chunk in the web build).
 */
export function loadPasswordEstimator(): Promise<ZxcvbnFactory> {
  estimator ??= (async () => {
    const [core, common, en] = await Promise.all([
      import('@zxcvbn-ts/core'),
      import('@zxcvbn-ts/language-common'),
      import('@zxcvbn-ts/language-en'),
    ]);
    return new core.ZxcvbnFactory({
      dictionary: { ...common.dictionary, ...en.dictionary },
      graphs: common.adjacencyGraphs,
      translations: en.translations,
      l33tMaxSubstitutions: L33T_MAX_SUBSTITUTIONS,
    });
  })();
  estimator.catch(() => {
    // A failed load (e.g. a chunk the browser could not fetch) is tried again next time.
    estimator = undefined;
  });
  return estimator;
}

/** Splits user inputs such as `kate.smith@example.com` into the words zxcvbn should treat as known to an attacker. */
function contextWords(userInputs: readonly string[]): string[] {
  const words = new Set<string>();
  for (const input of userInputs) {
    const lower = input.toLowerCase().trim();
    if (!lower) continue;
    words.add(lower);
    for (const part of lower.split(/[^\p{L}\p{N}]+/u)) if (part.length >= 3) words.add(part);
  }
  return [...words];
}

/** Estimates `password`, counting `userInputs` (username, email address) as words an attacker knows. */
export async function estimatePasswordStrength(
  password: string,
  userInputs: readonly string[] = [],
): Promise<PasswordStrength> {
  const zxcvbn = await loadPasswordEstimator();
  const result = zxcvbn.check([...password].slice(0, STRENGTH_INPUT_MAX).join(''), contextWords(userInputs));
  return {
    score: result.score,
    acceptable: result.score >= MIN_PASSWORD_SCORE,
    warning: result.feedback.warning ?? '',
    suggestions: result.feedback.suggestions,
  };
}
