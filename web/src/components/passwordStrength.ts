import { ref, watch, type Ref } from 'vue';
// The server's estimator and threshold (zxcvbn-ts, score 3), so the hint and the server agree.
import { MIN_PASSWORD_SCORE, estimatePasswordStrength } from '../../../src/lib/password-strength';

export interface StrengthHint {
  /** 0-4 as zxcvbn scores; 0 also while too short; -1 when there is nothing to judge yet (no colour). */
  score: number;
  label: string;
}

const MIN_LENGTH = 8;

/** The hint that needs no dictionary: length only. */
function lengthHint(password: string): StrengthHint | null {
  if (!password) return { score: -1, label: 'Use at least 8 characters; a few unrelated words work well.' };
  const length = [...password].length;
  if (length < MIN_LENGTH)
    return {
      score: 0,
      label: `Too short: ${MIN_LENGTH - length} more character${length === MIN_LENGTH - 1 ? '' : 's'} needed.`,
    };
  return null;
}

/**
 * A live hint for `password`, judged like the server does (the server still has the final say).
 * The dictionaries (about 1.5 MB) load on the first keystroke that needs them, in their own chunk,
 * so pages without a password field never fetch them.
 */
export function usePasswordStrength(password: Ref<string>, userInputs: () => string[] = () => []): Ref<StrengthHint> {
  const hint = ref<StrengthHint>(lengthHint(password.value) ?? { score: -1, label: 'Checking…' });
  let latest = 0;
  let lengthOnly = true;
  watch(
    [password, userInputs],
    async ([value]) => {
      const asked = ++latest;
      const quick = lengthHint(value);
      if (quick) {
        hint.value = quick;
        lengthOnly = true;
        return;
      }
      // A length hint ("too short") would otherwise stay up while the dictionaries load.
      if (lengthOnly) hint.value = { score: -1, label: 'Checking…' };
      lengthOnly = false;
      try {
        const strength = await estimatePasswordStrength(value, userInputs().filter(Boolean));
        if (asked !== latest) return;
        const why = strength.warning || strength.suggestions[0] || 'Add another word or two.';
        hint.value =
          strength.score < MIN_PASSWORD_SCORE
            ? { score: strength.score, label: `Too easy to guess: ${why}` }
            : { score: strength.score, label: strength.score === 4 ? 'Strength: Strong.' : 'Strength: Good.' };
      } catch {
        // The dictionaries could not be fetched: say nothing rather than guess; the server decides.
        if (asked === latest) hint.value = { score: 2, label: 'The server checks the strength when you submit.' };
      }
    },
    { immediate: true },
  );
  return hint;
}
