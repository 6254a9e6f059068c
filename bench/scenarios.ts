import type autocannon from 'autocannon';
import { TOTP, Secret } from 'otpauth';

/** autocannon's per-connection context, cleared each time a connection has sent the whole `requests` list. */
type Context = Record<string, unknown>;

export const CONNECTIONS = 50;
const JSON_HEADERS = { 'content-type': 'application/json' };

export function readOptions(url: string, headers: Record<string, string>): autocannon.Options {
  return { url, connections: CONNECTIONS, headers };
}

/** Each request signs in the next user of the list, so no row or cache stays hot by accident. */
export function loginOptions(
  url: string,
  usernames: string[],
  password: string,
  field: 'username' | 'email' = 'username',
  headers: Record<string, string> = {},
): autocannon.Options {
  let next = 0;
  const setupRequest = (request: autocannon.Request): autocannon.Request => ({
    ...request,
    body: JSON.stringify({ [field]: usernames[next++ % usernames.length], password }),
  });
  // Hashing-bound requests queue for seconds at 50 connections: autocannon's 10 s default would cut them off.
  return {
    url,
    connections: CONNECTIONS,
    method: 'POST',
    headers: { ...JSON_HEADERS, ...headers },
    requests: [{ setupRequest }],
    timeout: 60,
  };
}

const STEP_SECONDS = 30;

function totpCode(secret: string, nowMs: number): string {
  return new TOTP({ algorithm: 'SHA1', digits: 6, period: STEP_SECONDS, secret: Secret.fromBase32(secret) }).generate({
    timestamp: nowMs,
  });
}

export interface TotpUserPicker<T> {
  (): T;
  /** Picks made when every user had already signed in during the current step (those logins are refused as replays). */
  readonly exhausted: number;
}

/**
 * Hands out TOTP users so that none signs in twice within one 30 s time step (Twofold accepts a
 * step once per user: RFC 6238 replay protection). The list may grow while it is in use (a top-up).
 * It never throws (a throw inside autocannon's request setup ends the whole run): when every user
 * has signed in during this step it hands out the next one anyway, and counts it in `exhausted`,
 * so the scenario can say its figure includes refused replays.
 */
export function totpUserPicker<T extends { secret: string }>(users: T[]): TotpUserPicker<T> {
  if (users.length === 0) throw new Error('no TOTP users to sign in with');
  const lastStep = new Map<number, number>();
  let next = 0;
  let exhausted = 0;
  const pick = (): T => {
    const step = Math.floor(Date.now() / 1000 / STEP_SECONDS);
    for (let tries = 0; tries < users.length; tries++) {
      const index = next++ % users.length;
      if ((lastStep.get(index) ?? -1) < step) {
        lastStep.set(index, step);
        return users[index] as T;
      }
    }
    exhausted += 1;
    return users[next++ % users.length] as T;
  };
  return Object.defineProperty(pick, 'exhausted', { get: () => exhausted }) as TotpUserPicker<T>;
}

/** Twofold's two-step login: the password step, then the TOTP step with the `mfa_token` it returned. */
export function twoFactorLoginOptions(
  baseUrl: string,
  pick: () => { username: string; secret: string },
  password: string,
): autocannon.Options {
  return {
    url: baseUrl,
    connections: CONNECTIONS,
    timeout: 60,
    requests: [
      {
        method: 'POST',
        path: '/api/auth/login',
        headers: JSON_HEADERS,
        setupRequest: (request: autocannon.Request, context: object) => {
          const user = pick();
          (context as Context).user = user;
          return { ...request, body: JSON.stringify({ username: user.username, password }) };
        },
        onResponse: (status: number, body: string, context: object) => {
          (context as Context).mfaToken =
            status === 200 ? (JSON.parse(body) as { mfa_token?: string }).mfa_token : undefined;
        },
      },
      {
        method: 'POST',
        path: '/api/auth/2fa/login',
        headers: JSON_HEADERS,
        setupRequest: (request: autocannon.Request, context: object) => {
          const { user, mfaToken } = context as { user: { secret: string }; mfaToken?: string };
          return {
            ...request,
            body: JSON.stringify({ mfa_token: mfaToken ?? 'missing', code: totpCode(user.secret, Date.now()) }),
          };
        },
      },
    ],
  };
}

function cookiesOf(headers: Record<string, unknown>): string {
  const raw = headers['set-cookie'] ?? headers['Set-Cookie'];
  const list = Array.isArray(raw) ? (raw as string[]) : typeof raw === 'string' ? [raw] : [];
  return list.map((cookie) => cookie.split(';', 1)[0]?.trim() ?? '').join('; ');
}

/**
 * better-auth's two-step login (twoFactor plugin): `sign-in/email` answers `twoFactorRedirect` and
 * sets the `better-auth.two_factor` cookie, which `two-factor/verify-totp` takes with the code.
 */
export function peerTwoFactorLoginOptions(
  baseUrl: string,
  pick: () => { email: string; secret: string },
  password: string,
): autocannon.Options {
  const headers = { ...JSON_HEADERS, origin: baseUrl };
  return {
    url: baseUrl,
    connections: CONNECTIONS,
    timeout: 60,
    requests: [
      {
        method: 'POST',
        path: '/api/auth/sign-in/email',
        headers,
        setupRequest: (request: autocannon.Request, context: object) => {
          const user = pick();
          (context as Context).user = user;
          return { ...request, body: JSON.stringify({ email: user.email, password }) };
        },
        onResponse: (
          _status: number,
          _body: string,
          context: object,
          responseHeaders: Record<string, unknown> | undefined,
        ) => {
          (context as Context).cookie = cookiesOf(responseHeaders ?? {});
        },
      },
      {
        method: 'POST',
        path: '/api/auth/two-factor/verify-totp',
        setupRequest: (request: autocannon.Request, context: object) => {
          const { user, cookie } = context as { user: { secret: string }; cookie?: string };
          return {
            ...request,
            headers: { ...headers, cookie: cookie ?? '' },
            body: JSON.stringify({ code: totpCode(user.secret, Date.now()) }),
          };
        },
      },
    ],
  };
}

/**
 * Rotating refresh. autocannon clears a connection's context after every request, so the live
 * tokens wait in a shared pool: a request takes one (no other request holds it), and a success
 * puts the new token of that chain back. Every chain is followed strictly in order.
 */
export function refreshOptions(url: string, pool: string[]): autocannon.Options {
  return {
    url,
    connections: CONNECTIONS,
    method: 'POST',
    headers: JSON_HEADERS,
    requests: [
      {
        setupRequest: (request: autocannon.Request) => {
          const token = pool.shift();
          if (token === undefined) throw new Error('the refresh token pool is empty: seed more chains');
          return { ...request, body: JSON.stringify({ refresh_token: token }) };
        },
        onResponse: (status: number, body: string) => {
          if (status === 200) pool.push((JSON.parse(body) as { refresh_token: string }).refresh_token);
        },
      },
    ],
  };
}

export function writeOptions(url: string, headers: Record<string, string>): autocannon.Options {
  let next = 0;
  const setupRequest = (request: autocannon.Request): autocannon.Request => {
    next += 1;
    return {
      ...request,
      body: JSON.stringify({
        name: `Bench product ${next}`,
        description: 'Written by the benchmark',
        price: (next % 10_000) + 0.99,
        quantity: next % 100,
      }),
    };
  };
  return {
    url,
    connections: CONNECTIONS,
    method: 'POST',
    headers: { ...JSON_HEADERS, ...headers },
    requests: [{ setupRequest }],
  };
}
