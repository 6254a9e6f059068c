import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from './app.js';

/** Options for a passkey as the second step of the mfa_token's sign-in. */
export function secondStepOptions(t: Pick<TestApp, 'app'>, mfaToken: string): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url: '/api/auth/2fa/passkey/options', payload: { mfa_token: mfaToken } });
}

/** The options' JSON of a second step that must succeed. */
export async function secondStepChallenge(
  t: Pick<TestApp, 'app'>,
  mfaToken: string,
): Promise<{ challenge: string; allowCredentials: Array<{ id: string }> }> {
  const response = await secondStepOptions(t, mfaToken);
  if (response.statusCode !== 200) throw new Error(`2fa/passkey/options failed: ${response.body}`);
  return response.json().options;
}

/** The second step with a passkey's assertion. */
export function passkeySecondStep(
  t: Pick<TestApp, 'app'>,
  mfaToken: string,
  response: unknown,
): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url: '/api/auth/2fa/login',
    payload: { mfa_token: mfaToken, method: 'passkey', response },
  });
}

/** Options for re-authenticating the session of `auth` with a passkey. */
export async function reauthOptions(
  t: Pick<TestApp, 'app'>,
  auth: { authorization: string },
): Promise<{ challenge: string; allowCredentials: Array<{ id: string }> }> {
  const response = await t.app.inject({ method: 'POST', url: '/api/auth/passkeys/reauth/options', headers: auth });
  if (response.statusCode !== 200) throw new Error(`passkeys/reauth/options failed: ${response.body}`);
  return response.json().options;
}

export function reauth(
  t: Pick<TestApp, 'app'>,
  auth: { authorization: string },
  payload: Record<string, unknown>,
): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url: '/api/auth/reauth', headers: auth, payload });
}
