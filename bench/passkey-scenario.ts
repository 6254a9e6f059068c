import type { CpuWatch } from './cpu.js';
import type autocannon from 'autocannon';
import { SoftwareAuthenticator } from '../test/support/software-authenticator.js';
import { measure } from './measure.js';
import { percentOf, type Figures, type ScenarioResult } from './report.js';
import { CONNECTIONS } from './scenarios.js';
import { BENCH_PASSWORD } from './seed.js';
import { postJSON } from './setup.js';

/*
 * Scenario 3b, passkey sign-in: `POST /api/auth/passkeys/login/options`, then
 * `POST /api/auth/passkeys/login/verify` with an assertion signed by the software authenticator of
 * the test suite (real ES256 keys and CBOR, test/support/software-authenticator.ts), user verified:
 * the sign-in finishes in those two requests (`amr` hwk + mfa).
 */

const JSON_HEADERS = { 'content-type': 'application/json' };

/** The relying party the server was started with (config `webauthn`): what the authenticator signs for. */
export interface BenchRelyingParty {
  rpId: string;
  origins: readonly string[];
}

/** autocannon's per-connection context between the options and the verify request. */
interface SignInContext {
  flowToken?: string;
  challenge?: string;
  key?: SoftwareAuthenticator;
}

/**
 * Registers `count` users through the API, each with one passkey: register, sign in (the password
 * with a fresh `auth_time`), registration options, verify. In batches, so the argon2 hashing of
 * registration and sign-in does not queue for minutes. New users only: a passkey on the password
 * users would turn their logins (scenarios 2 and 4) into second-factor challenges.
 */
export async function registerPasskeyUsers(
  baseUrl: string,
  relyingParty: BenchRelyingParty,
  count: number,
  batch = 16,
): Promise<SoftwareAuthenticator[]> {
  const origin = relyingParty.origins[0] ?? baseUrl;
  const keys: SoftwareAuthenticator[] = [];
  const runId = Date.now().toString(36);
  for (let from = 0; from < count; from += batch) {
    const made = await Promise.all(
      Array.from({ length: Math.min(batch, count - from) }, async (_, i) => {
        const username = `bench_passkey_${runId}_${from + i}`;
        await postJSON(`${baseUrl}/api/auth/register`, { username, password: BENCH_PASSWORD });
        const { access_token } = await postJSON<{ access_token: string }>(`${baseUrl}/api/auth/login`, {
          username,
          password: BENCH_PASSWORD,
        });
        const auth = { authorization: `Bearer ${access_token}` };
        const options = await postJSON<{ challenge: string; user: { id: string } }>(
          `${baseUrl}/api/auth/passkeys/register/options`,
          {},
          auth,
        );
        const key = new SoftwareAuthenticator('ES256', { origin, rpId: relyingParty.rpId });
        await postJSON(`${baseUrl}/api/auth/passkeys/register/verify`, { response: key.register(options) }, auth);
        return key;
      }),
    );
    keys.push(...made);
  }
  return keys;
}

export interface PasskeyPool {
  /** A credential no request in flight is signing with; undefined (and counted) when every one is in use. */
  take(): SoftwareAuthenticator | undefined;
  give(key: SoftwareAuthenticator): void;
  /** How many times take() found every credential in use. */
  readonly exhausted: number;
}

/**
 * The credentials the load signs with. A credential is used by one request at a time and its
 * signature counter goes up by one each use, so the server sees every credential's counter move
 * forward (WebAuthn Level 3 §6.1.1): two requests racing on one credential could arrive out of
 * order and be refused as a cloned authenticator. A request cut off when a run ends never gives
 * its credential back, so the pool holds the connections plus those lost at each run's end.
 */
export function passkeyPool(keys: SoftwareAuthenticator[]): PasskeyPool {
  const free = [...keys];
  let exhausted = 0;
  return {
    take() {
      const key = free.shift();
      if (key === undefined) exhausted += 1;
      return key;
    },
    give(key) {
      free.push(key);
    },
    get exhausted() {
      return exhausted;
    },
  };
}

/**
 * The two requests of one passkey sign-in. It never throws inside autocannon's request setup (a
 * throw ends the whole run): with every credential in use it signs with a stand-in that has no
 * account (answered 401, no lockout budget spent: the flow names no account) and counts it.
 */
export function passkeySignInOptions(
  baseUrl: string,
  pool: PasskeyPool,
  relyingParty: BenchRelyingParty,
): autocannon.Options {
  const origin = relyingParty.origins[0] ?? baseUrl;
  const standIn = new SoftwareAuthenticator('ES256', { origin, rpId: relyingParty.rpId });
  return {
    url: baseUrl,
    connections: CONNECTIONS,
    timeout: 60,
    requests: [
      {
        method: 'POST',
        path: '/api/auth/passkeys/login/options',
        headers: JSON_HEADERS,
        body: '{}',
        onResponse: (status: number, body: string, context: object) => {
          const ctx = context as SignInContext;
          if (status !== 200) return;
          const parsed = JSON.parse(body) as { flow_token: string; options: { challenge: string } };
          ctx.flowToken = parsed.flow_token;
          ctx.challenge = parsed.options.challenge;
        },
      },
      {
        method: 'POST',
        path: '/api/auth/passkeys/login/verify',
        headers: JSON_HEADERS,
        setupRequest: (request: autocannon.Request, context: object) => {
          const ctx = context as SignInContext;
          const pooled = pool.take();
          ctx.key = pooled;
          const key = pooled ?? standIn;
          const response = key.assert({ challenge: ctx.challenge ?? 'missing' });
          return { ...request, body: JSON.stringify({ flow_token: ctx.flowToken ?? 'missing', response }) };
        },
        onResponse: (_status: number, _body: string, context: object) => {
          const ctx = context as SignInContext;
          if (ctx.key !== undefined) pool.give(ctx.key);
          ctx.key = undefined;
        },
      },
    ],
  };
}

/** Credentials in flight (one per connection) plus those a cut-off run keeps: the warm-up's end and the run's. */
export const PASSKEY_CREDENTIALS = CONNECTIONS * 3;

/**
 * Registers the passkey users, then measures passkey sign-ins on Twofold (one run after a warm-up)
 * and compares logins/s (two requests each) with the password login's (scenario 2).
 */
export async function passkeyScenario(
  baseUrl: string,
  relyingParty: BenchRelyingParty,
  passwordLogins: Figures,
  seconds: number,
  cpu?: CpuWatch,
): Promise<ScenarioResult> {
  const name = '3b. passkey sign-in (logins/s)';
  const started = performance.now();
  const keys = await registerPasskeyUsers(baseUrl, relyingParty, PASSKEY_CREDENTIALS);
  console.log(
    `3b. passkey sign-in: login/options, then login/verify with a user-verified ES256 assertion (${keys.length} users registered through the API in ${((performance.now() - started) / 1000).toFixed(1)} s, each credential signing one request at a time)`,
  );
  const pool = passkeyPool(keys);
  const measured = await measure('Twofold', passkeySignInOptions(baseUrl, pool, relyingParty), seconds, { cpu });
  const logins: Figures = { ...measured, requestsPerSecond: measured.requestsPerSecond / 2 };
  const percent = percentOf(logins.requestsPerSecond, passwordLogins.requestsPerSecond);
  const exhausted =
    pool.exhausted > 0 ? `; every credential was in use ${pool.exhausted} times (stand-in refused)` : '';
  return {
    scenario: name,
    twofold: logins,
    percent,
    target: 'beside password logins/s',
    requestsPerOperation: 2,
    note: `${logins.requestsPerSecond.toFixed(1)} passkey logins/s, ${passwordLogins.requestsPerSecond.toFixed(1)} password logins/s (${Math.round(percent)}%)${exhausted}`,
  };
}
