import { nextTick, onMounted, ref, type Ref } from 'vue';
import { errorMessage, fieldErrors } from '../api/errors';
import type FormMessages from './FormMessages.vue';

/** A thing of the person's that has a name they chose: an authenticator app, a passkey. */
export interface NamedItem {
  id: number;
  name: string;
}

export interface NamedListApi<T extends NamedItem, R> {
  /**
   * Starts the ids of the row's elements, unique on the page: `<prefix>-name-<id>` (the rename input),
   * `<prefix>-rename-<id>`, `<prefix>-remove-<id>` and `<prefix>-cancel-<id>` (buttons the focus returns to).
   */
  idPrefix: string;
  list(): Promise<T[]>;
  rename(id: number, name: string): Promise<T>;
  remove(id: number): Promise<R>;
  /** After a removal and the list's reload: the component says so (a notice, or an event for its page). */
  removed(item: T, result: R): void | Promise<void>;
}

/** The list's state and its steps, for the component's template. */
export interface NamedList<T extends NamedItem> {
  items: Ref<T[]>;
  loading: Ref<boolean>;
  busy: Ref<boolean>;
  error: Ref<string | null>;
  notice: Ref<string | null>;
  messages: Ref<InstanceType<typeof FormMessages> | null>;
  /** The item whose name is being edited, and the name typed so far. */
  editing: Ref<number | null>;
  draft: Ref<string>;
  draftError: Ref<string | null>;
  /** The item the person asked to remove, until they confirm or cancel. */
  removing: Ref<number | null>;
  load(): Promise<void>;
  /** Clears the error, the notice and the name field's error before a new step. */
  clear(): void;
  startRename(item: T): Promise<void>;
  stopRename(item: T): Promise<void>;
  rename(item: T): Promise<void>;
  askRemove(item: T): Promise<void>;
  cancelRemove(item: T): Promise<void>;
  remove(item: T): Promise<void>;
}

/**
 * A list of the person's named things, each renamable inline and removable after a confirmation, as
 * the Security page shows authenticator apps and passkeys. The server may first ask "Confirm it's you"
 * (api/client's reauthenticate hook, ReauthDialog), and the request then runs again by itself. The
 * keyboard focus follows each step (WCAG 2.2 SC 2.4.3 Focus Order): into the name field, back to the
 * button that opened a step when it is cancelled, to the notice or the error after the request.
 */
export function useNamedList<T extends NamedItem, R>(api: NamedListApi<T, R>): NamedList<T> {
  const items = ref<T[]>([]) as Ref<T[]>;
  const loading = ref(true);
  const busy = ref(false);
  const error = ref<string | null>(null);
  const notice = ref<string | null>(null);
  // FormMessages, through the template's `ref="messages"`.
  const messages = ref<InstanceType<typeof FormMessages> | null>(null);
  const editing = ref<number | null>(null);
  const draft = ref('');
  const draftError = ref<string | null>(null);
  const removing = ref<number | null>(null);

  async function load(): Promise<void> {
    try {
      items.value = await api.list();
    } catch (e) {
      error.value = errorMessage(e);
    } finally {
      loading.value = false;
    }
  }

  function clear(): void {
    error.value = null;
    notice.value = null;
    draftError.value = null;
  }

  async function focusId(id: string): Promise<void> {
    await nextTick();
    document.getElementById(id)?.focus();
  }

  async function startRename(item: T): Promise<void> {
    clear();
    removing.value = null;
    editing.value = item.id;
    draft.value = item.name;
    await focusId(`${api.idPrefix}-name-${item.id}`);
  }

  async function stopRename(item: T): Promise<void> {
    editing.value = null;
    await focusId(`${api.idPrefix}-rename-${item.id}`);
  }

  async function rename(item: T): Promise<void> {
    clear();
    const name = draft.value.trim();
    if (name === '' || name.length > 64) {
      draftError.value = 'Use 1 to 64 characters.';
      return;
    }
    busy.value = true;
    try {
      const renamed = await api.rename(item.id, name);
      items.value = items.value.map((other) => (other.id === renamed.id ? renamed : other));
      editing.value = null;
      notice.value = `Renamed to “${renamed.name}”.`;
      await messages.value?.focus('notice');
    } catch (e) {
      // A refused name is said beside the field, anything else above the list.
      draftError.value = fieldErrors(e).name ?? null;
      if (!draftError.value) error.value = errorMessage(e);
    } finally {
      busy.value = false;
    }
  }

  async function askRemove(item: T): Promise<void> {
    clear();
    editing.value = null;
    removing.value = item.id;
    await focusId(`${api.idPrefix}-cancel-${item.id}`);
  }

  async function cancelRemove(item: T): Promise<void> {
    removing.value = null;
    await focusId(`${api.idPrefix}-remove-${item.id}`);
  }

  async function remove(item: T): Promise<void> {
    clear();
    busy.value = true;
    try {
      const result = await api.remove(item.id);
      removing.value = null;
      await load();
      await api.removed(item, result);
    } catch (e) {
      error.value = errorMessage(e);
      await messages.value?.focus('error');
    } finally {
      busy.value = false;
    }
  }

  onMounted(load);

  return {
    items,
    loading,
    busy,
    error,
    notice,
    messages,
    editing,
    draft,
    draftError,
    removing,
    load,
    clear,
    startRename,
    stopRename,
    rename,
    askRemove,
    cancelRemove,
    remove,
  };
}
