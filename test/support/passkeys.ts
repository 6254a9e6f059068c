import type { LightMyRequestResponse } from 'fastify';
import { signUp, type Session, type TestApp } from './app.js';
import { SoftwareAuthenticator, type Algorithm, type CeremonyOptions } from './software-authenticator.js';

/** What the test apps use as the relying party (PUBLIC_URL https://auth.example.test). */
export const RP = { origin: 'https://auth.example.test', rpId: 'auth.example.test' };
export const PASSKEY_ENV = { PUBLIC_URL: RP.origin };

export function newAuthenticator(algorithm: Algorithm = 'ES256'): SoftwareAuthenticator {
  return new SoftwareAuthenticator(algorithm, RP);
}

export async function registrationOptions(
  t: Pick<TestApp, 'app'>,
  session: Session,
): Promise<{ challenge: string; user: { id: string } } & Record<string, unknown>> {
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/auth/passkeys/register/options',
    headers: session.auth,
    payload: {},
  });
  if (response.statusCode !== 200) throw new Error(`register/options failed: ${response.body}`);
  return response.json();
}

export function verifyRegistration(
  t: Pick<TestApp, 'app'>,
  session: Session,
  payload: Record<string, unknown>,
): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url: '/api/auth/passkeys/register/verify', headers: session.auth, payload });
}

/** Registers the authenticator's credential for the session's user: the created `passkey`. */
export async function addPasskey(
  t: Pick<TestApp, 'app'>,
  session: Session,
  authenticator: SoftwareAuthenticator,
  name?: string,
): Promise<{ id: number; name: string }> {
  const options = await registrationOptions(t, session);
  const response = await verifyRegistration(t, session, {
    response: authenticator.register(options),
    ...(name === undefined ? {} : { name }),
  });
  if (response.statusCode !== 201) throw new Error(`register/verify failed: ${response.body}`);
  return response.json();
}

export async function loginOptions(
  t: Pick<TestApp, 'app'>,
  body: Record<string, unknown> = {},
): Promise<{ flow_token: string; options: { challenge: string } & Record<string, unknown> }> {
  const response = await t.app.inject({ method: 'POST', url: '/api/auth/passkeys/login/options', payload: body });
  if (response.statusCode !== 200) throw new Error(`login/options failed: ${response.body}`);
  return response.json();
}

export function loginVerify(
  t: Pick<TestApp, 'app'>,
  payload: Record<string, unknown>,
): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url: '/api/auth/passkeys/login/verify', payload });
}

/** A whole passwordless sign-in with the authenticator: options, assertion, verify. */
export async function passkeySignIn(
  t: Pick<TestApp, 'app'>,
  authenticator: SoftwareAuthenticator,
  ceremony: CeremonyOptions = {},
): Promise<LightMyRequestResponse> {
  const { flow_token, options } = await loginOptions(t);
  return loginVerify(t, { flow_token, response: authenticator.assert(options, ceremony) });
}

/** A new account with one passkey: its first session, its username and the authenticator holding the key. */
export async function signUpWithPasskey(
  t: Pick<TestApp, 'app'>,
): Promise<Session & { username: string; authenticator: SoftwareAuthenticator }> {
  const session = await signUp(t.app);
  const authenticator = newAuthenticator();
  await addPasskey(t, session, authenticator);
  return { ...session, authenticator };
}
