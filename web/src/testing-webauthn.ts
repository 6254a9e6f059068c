import { vi } from 'vitest';

/**
 * jsdom has no Web Authentication API. These stand in for the browser's side only (the real ceremony runs in
 * Chromium's virtual authenticator, test/e2e/passkeys.e2e.ts): `PublicKeyCredential` so the page offers
 * passkeys, and `navigator.credentials` answering with `answer` (a DOMException the browser would throw, or a
 * credential). Returns the calls' options.
 */
export function stubWebAuthn(
  answer: (kind: 'create' | 'get', options: CredentialRequestOptions) => Promise<unknown>,
  { autofill = false } = {},
): Array<{ kind: 'create' | 'get'; options: CredentialRequestOptions & { mediation?: string } }> {
  const calls: Array<{ kind: 'create' | 'get'; options: CredentialRequestOptions }> = [];
  const PublicKeyCredential = Object.assign(function PublicKeyCredential() {}, {
    isConditionalMediationAvailable: () => Promise.resolve(autofill),
  });
  vi.stubGlobal('PublicKeyCredential', PublicKeyCredential);
  const call = (kind: 'create' | 'get') => (options: CredentialRequestOptions) => {
    calls.push({ kind, options });
    return answer(kind, options);
  };
  Object.defineProperty(navigator, 'credentials', {
    configurable: true,
    value: { create: call('create'), get: call('get') },
  });
  return calls;
}

/** An ArrayBuffer of the bytes of `text`. */
const bytes = (text: string): ArrayBuffer => new TextEncoder().encode(text).buffer as ArrayBuffer;

/** An assertion as the browser returns it from navigator.credentials.get (the signature is not checked here). */
export function fakeAssertion(): unknown {
  return {
    id: 'Y3JlZA',
    rawId: bytes('cred'),
    type: 'public-key',
    authenticatorAttachment: 'platform',
    response: {
      authenticatorData: bytes('auth-data'),
      clientDataJSON: bytes('{}'),
      signature: bytes('sig'),
      userHandle: bytes('user'),
    },
    getClientExtensionResults: () => ({}),
  };
}

/** What login/options answers: a flow token and discoverable-credential request options. */
export const LOGIN_OPTIONS = {
  flow_token: 'flow.tok',
  options: { challenge: 'Y2hhbGxlbmdl', rpId: 'localhost', allowCredentials: [], userVerification: 'preferred' },
};

/** What register/options answers (PublicKeyCredentialCreationOptionsJSON). */
export const CREATION_OPTIONS = {
  challenge: 'Y2hhbGxlbmdl',
  rp: { id: 'localhost', name: 'Twofold' },
  user: { id: 'dXNlcg', name: 'alice', displayName: 'alice' },
  pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
  excludeCredentials: [],
  authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
  attestation: 'none',
};

/** A fetch stub that answers by method and path (no route: no session), and records the calls. */
export function server(
  routes: Record<string, (body: unknown) => [number, unknown]>,
): Array<{ key: string; body: unknown }> {
  const calls: Array<{ key: string; body: unknown }> = [];
  const fetch = vi.fn(async (url: string, init: RequestInit = {}) => {
    const key = `${init.method ?? 'GET'} ${url}`;
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
    calls.push({ key, body });
    const [status, answer] = routes[key]?.(body) ?? [401, { error: 'refresh_token_invalid', message: 'x' }];
    return new Response(status === 204 ? null : JSON.stringify(answer), {
      status,
      headers: { 'Content-Type': 'application/json' },
    });
  });
  vi.stubGlobal('fetch', fetch);
  return calls;
}
