import { ref, type Ref } from 'vue';
import { errorMessage, fieldErrors } from './errors';

export interface Action {
  busy: Ref<boolean>;
  /** The sentence for the last failure (from the one error table), or null. */
  error: Ref<string | null>;
  /** Field errors of the last `validation_failed`, by field name. */
  errors: Ref<Record<string, string>>;
  notice: Ref<string | null>;
  /** Runs `task` with the form busy and earlier messages cleared; true when it succeeded. */
  run(task: () => Promise<void>): Promise<boolean>;
}

/** The state every form that calls the API shares: busy while it runs, then an error or a notice. */
export function useAction(): Action {
  const busy = ref(false);
  const error = ref<string | null>(null);
  const errors = ref<Record<string, string>>({});
  const notice = ref<string | null>(null);
  async function run(task: () => Promise<void>): Promise<boolean> {
    error.value = null;
    errors.value = {};
    notice.value = null;
    busy.value = true;
    try {
      await task();
      return true;
    } catch (e) {
      error.value = errorMessage(e);
      errors.value = fieldErrors(e);
      return false;
    } finally {
      busy.value = false;
    }
  }
  return { busy, error, errors, notice, run };
}
