import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { apiGet, apiPost } from '../api/client';
import type { RequestBody, ResponseOf } from '../api/schema';
import type { MfaMethod, Tokens, User } from '../api/types';

/** A passkey's assertion as POST /api/auth/passkeys/login/verify takes it (the credential's JSON). */
export type PasskeyAssertion = RequestBody<'/api/auth/passkeys/login/verify', 'post'>['response'];
type FirstFactorResult = ResponseOf<'/api/auth/login', 'post'>;

export interface PendingMfa {
  token: string;
  methods: string[];
}

/**
 * The server requires a second factor this account does not have yet (REQUIRE_2FA): the sign-in
 * waits for its set-up. The set-up token is held as the access token meanwhile (the set-up calls
 * send it as Bearer); nobody is signed in until the set-up answers with tokens.
 */
export interface PendingSetup {
  methods: Array<'totp' | 'email'>;
}

/** Who is signed in. The access token lives here, in memory only; the refresh token is an HttpOnly cookie. */
export const useSessionStore = defineStore('session', () => {
  const user = ref<User | null>(null);
  const accessToken = ref<string | null>(null);
  const pendingMfa = ref<PendingMfa | null>(null);
  const pendingSetup = ref<PendingSetup | null>(null);
  /** A message for the sign-in page (e.g. "your session has ended"). */
  const notice = ref<string | null>(null);
  /** Set when a product write was refused for this role. */
  const productsReadOnly = ref(false);
  /** Open while the "Confirm it's you" dialog is shown; settles true when confirmed, false when cancelled. */
  const reauthPending = ref(false);
  /** Why the dialog asks, when the page that opened it says (another application's request); else a change's. */
  const reauthReason = ref<string | null>(null);
  let reauthWaiters: Array<(confirmed: boolean) => void> = [];
  let restoring: Promise<void> | null = null;
  let refreshing: Promise<boolean> | null = null;

  const signedIn = computed(() => user.value !== null && accessToken.value !== null);
  const isAdmin = computed(() => user.value?.role === 'admin');

  function accept(tokens: Tokens): void {
    accessToken.value = tokens.access_token;
    user.value = tokens.user;
    pendingMfa.value = null;
    pendingSetup.value = null;
    notice.value = null;
  }

  function clear(): void {
    if (reauthPending.value) settleReauth(false);
    user.value = null;
    accessToken.value = null;
    pendingMfa.value = null;
    pendingSetup.value = null;
    productsReadOnly.value = false;
  }

  /** A new access token through the refresh cookie (one at a time). */
  function refresh(): Promise<boolean> {
    refreshing ??= apiPost('/api/auth/refresh', { body: {}, retry: false })
      .then((tokens) => {
        accept(tokens);
        return true;
      })
      .catch(() => false)
      .finally(() => {
        refreshing = null;
      });
    return refreshing;
  }

  /**
   * On app start: a reload keeps the person signed in when the cookie is still good. The server
   * sets a readable `twofold_signed_in` hint beside the HttpOnly refresh cookie; without it there
   * is nothing to refresh (and no failing request to show in the console).
   */
  function restore(): Promise<void> {
    const hinted = document.cookie.split(';').some((part) => part.trim().startsWith('twofold_signed_in='));
    restoring ??= hinted ? refresh().then(() => undefined) : Promise.resolve();
    return restoring;
  }

  /** Step one. Returns true when signed in, false when a second factor (or its set-up) is needed. */
  async function login(username: string, password: string): Promise<boolean> {
    return firstFactor(await apiPost('/api/auth/login', { body: { username, password }, retry: false }));
  }

  /** Step one with a passkey's assertion (the login flow's `flow_token` from login/options); as login(). */
  async function loginWithPasskey(flowToken: string, response: PasskeyAssertion): Promise<boolean> {
    return firstFactor(
      await apiPost('/api/auth/passkeys/login/verify', { body: { flow_token: flowToken, response }, retry: false }),
    );
  }

  /** The answer is Tokens | MfaChallenge | MfaSetupRequired (the 200 of both first steps). */
  function firstFactor(result: FirstFactorResult): boolean {
    if ('mfa_required' in result && result.mfa_required) {
      pendingMfa.value = { token: result.mfa_token, methods: result.mfa_methods };
      return false;
    }
    if ('mfa_setup_required' in result && result.mfa_setup_required) {
      accessToken.value = result.setup_token;
      pendingSetup.value = { methods: result.mfa_methods };
      return false;
    }
    accept(result as Tokens);
    return true;
  }

  /**
   * The second step with a code. Returns the tokens without taking them: the page that shows the step accepts
   * them (accepting ends the challenge, and with it the step on screen).
   */
  async function completeMfa(code: string, method: MfaMethod): Promise<Tokens> {
    if (!pendingMfa.value) throw new Error('No sign-in in progress');
    return apiPost('/api/auth/2fa/login', {
      body: { mfa_token: pendingMfa.value.token, code, method },
      retry: false,
    });
  }

  /** Request options for a passkey as the second step; the server binds their challenge to this sign-in. */
  async function mfaPasskeyOptions(): Promise<unknown> {
    if (!pendingMfa.value) throw new Error('No sign-in in progress');
    const body = { mfa_token: pendingMfa.value.token };
    return (await apiPost('/api/auth/2fa/passkey/options', { body, retry: false })).options;
  }

  /** The second step with a passkey's assertion (for `mfaPasskeyOptions`' challenge); as completeMfa. */
  async function completeMfaWithPasskey(response: PasskeyAssertion): Promise<Tokens> {
    if (!pendingMfa.value) throw new Error('No sign-in in progress');
    return apiPost('/api/auth/2fa/login', {
      body: { mfa_token: pendingMfa.value.token, method: 'passkey', response },
      retry: false,
    });
  }

  async function sendEmailCode(): Promise<void> {
    if (!pendingMfa.value) throw new Error('No sign-in in progress');
    await apiPost('/api/auth/2fa/email/send', { body: { mfa_token: pendingMfa.value.token }, retry: false });
  }

  function cancelMfa(): void {
    pendingMfa.value = null;
  }

  /** Leaves a set-up the server required: the set-up token is forgotten. */
  function cancelSetup(): void {
    pendingSetup.value = null;
    accessToken.value = null;
  }

  async function reloadUser(): Promise<void> {
    user.value = await apiGet('/api/user/me');
  }

  async function logout(): Promise<void> {
    try {
      await apiPost('/api/auth/logout', { body: {}, retry: false });
    } catch {
      // the session is gone either way
    }
    clear();
  }

  async function logoutAll(): Promise<void> {
    await apiPost('/api/auth/logout-all', { body: {} });
    clear(); // the server also cleared the cookie
  }

  /**
   * The server asked for a recent sign-in (403 `reauth_required`): show the dialog and wait for the
   * person. Calls that arrive while it is open wait for the same answer.
   */
  function requestReauth(reason: string | null = null): Promise<boolean> {
    if (!signedIn.value) return Promise.resolve(false);
    if (!reauthPending.value) reauthReason.value = reason;
    reauthPending.value = true;
    return new Promise((resolve) => reauthWaiters.push(resolve));
  }

  function settleReauth(confirmed: boolean): void {
    const waiters = reauthWaiters;
    reauthWaiters = [];
    reauthPending.value = false;
    for (const resolve of waiters) resolve(confirmed);
  }

  /** Password (and a code when 2FA is on): a fresh sign-in time for this session; the waiting calls are retried. */
  async function confirmReauth(password: string, code?: string): Promise<void> {
    // Default retry: an access token that expired while the dialog was open is refreshed first.
    const tokens = await apiPost('/api/auth/reauth', { body: code ? { password, code } : { password } });
    accept(tokens);
    settleReauth(true);
  }

  /** Request options for re-authenticating with a passkey (their challenge belongs to this session). */
  async function reauthPasskeyOptions(): Promise<unknown> {
    return (await apiPost('/api/auth/passkeys/reauth/options', { body: {} })).options;
  }

  /** A passkey's assertion instead of password and code: the passkey is the whole proof (the contract). */
  async function confirmReauthWithPasskey(response: PasskeyAssertion): Promise<void> {
    accept(await apiPost('/api/auth/reauth', { body: { response } }));
    settleReauth(true);
  }

  function cancelReauth(): void {
    settleReauth(false);
  }

  /** A step-up code by email, for the dialog (only a Bearer token is needed). */
  async function sendReauthEmailCode(): Promise<void> {
    await apiPost('/api/auth/2fa/email/send', { body: {} });
  }

  /** The session could not be renewed: forget it and say so on the sign-in page. */
  function expire(message = 'Your session has ended. Please sign in again.'): void {
    clear();
    notice.value = message;
  }

  return {
    user,
    accessToken,
    pendingMfa,
    pendingSetup,
    notice,
    productsReadOnly,
    signedIn,
    isAdmin,
    reauthPending,
    reauthReason,
    accept,
    clear,
    refresh,
    restore,
    login,
    loginWithPasskey,
    completeMfa,
    mfaPasskeyOptions,
    completeMfaWithPasskey,
    sendEmailCode,
    cancelMfa,
    cancelSetup,
    reloadUser,
    logout,
    logoutAll,
    expire,
    requestReauth,
    confirmReauth,
    reauthPasskeyOptions,
    confirmReauthWithPasskey,
    cancelReauth,
    sendReauthEmailCode,
  };
});
