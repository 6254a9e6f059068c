import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, SERVE_NODE_FLAGS } from './processes.js';

/*
 * The OpenID Connect provider's side of the benchmark set-up: its settings, its clients (made with
 * `twofold client create`, as an operator would), and one authorization code obtained the way a
 * browser obtains it (the sign-in step's API, docs/oidc.md "Signing a person in").
 */

/** Where the sign-in client returns; nothing listens there: the code is read from the redirect. */
export const BENCH_REDIRECT_URI = 'http://127.0.0.1:9/callback';
export const BENCH_API_SCOPE = 'bench:read';
/** What a web application such as Grafana asks for (no offline_access: no refresh token). */
export const BENCH_SIGN_IN_SCOPE = 'openid profile email';

/**
 * Settings that turn the provider on in production mode: a key file (one RSA key for RS256, the
 * algorithm every relying party verifies, OpenID Connect Core 1.0 §15.1), an https issuer (required
 * in production; a TLS proxy in front would serve it, and nothing here compares it with the
 * loopback address the load uses) and the per-client token budget lifted: the load comes from one
 * client, and a 429 would measure the limiter.
 */
export function oidcEnv(dataDir: string): Record<string, string> {
  const file = path.join(dataDir, 'oidc-keys.json');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  writeFileSync(file, JSON.stringify({ keys: [{ ...rsa, kid: 'bench-rs256', alg: 'RS256', use: 'sig' }] }), {
    mode: 0o600,
  });
  return {
    OIDC_SIGNING_KEYS_FILE: file,
    OIDC_ISSUER: 'https://twofold.bench.invalid',
    OIDC_SCOPES: BENCH_API_SCOPE,
    RATE_LIMIT_TOKEN: '1000000',
  };
}

export interface BenchClient {
  clientId: string;
  secret: string;
  /** `Authorization: Basic …` (client_secret_basic, RFC 6749 §2.3.1: both parts form-encoded). */
  basic: string;
}

/** `node dist/main.js client create … --json` with the server's environment. */
export function createClient(env: Record<string, string>, args: string[]): BenchClient {
  const out = execFileSync(
    process.execPath,
    [...SERVE_NODE_FLAGS, path.join(ROOT, 'dist/main.js'), 'client', 'create', ...args, '--json'],
    { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' },
  );
  const created = JSON.parse(out.trim().split('\n').pop() as string) as { client_id: string; client_secret: string };
  const pair = `${encodeURIComponent(created.client_id)}:${encodeURIComponent(created.client_secret)}`;
  return {
    clientId: created.client_id,
    secret: created.client_secret,
    basic: `Basic ${Buffer.from(pair).toString('base64')}`,
  };
}

/** A code and the PKCE verifier its exchange must present (RFC 7636 §4.1, S256). */
export interface PreparedCode {
  code: string;
  verifier: string;
}

/** A browser's cookie jar for one flow: every cookie is sent everywhere, which the provider ignores. */
class Jar {
  private readonly cookies = new Map<string, string>();
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set('cookie', this.header());
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      this.cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1));
    }
    return response;
  }
}

/** Reads a redirect's target and releases the connection (an unread body would hold it). */
async function locationOf(response: Response, step: string): Promise<URL> {
  const body = await response.text();
  const location = response.headers.get('location');
  if (!location) throw new Error(`${step}: ${response.status} without a redirect (${body.slice(0, 200)})`);
  return new URL(location, response.url);
}

/**
 * One authorization code, as a person's browser gets it for a `--skip-consent` client: the
 * authorization request (PKCE S256, state, nonce) ends at the sign-in page `/app/oidc/<uid>` with
 * the interaction cookie; `POST /api/oidc/interaction/<uid>/login` with the person's Bearer token;
 * the browser follows `redirect_to` and the provider answers with the callback carrying the code.
 * A fresh browser each time: no provider session lets a code through without the sign-in step.
 */
export async function prepareCode(
  baseUrl: string,
  clientId: string,
  auth: { authorization: string },
): Promise<PreparedCode> {
  const verifier = randomBytes(32).toString('base64url');
  const query = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: BENCH_REDIRECT_URI,
    scope: BENCH_SIGN_IN_SCOPE,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: randomBytes(16).toString('base64url'),
    nonce: randomBytes(16).toString('base64url'),
  });
  const jar = new Jar();
  const page = await locationOf(await jar.fetch(`${baseUrl}/oidc/auth?${query}`), 'authorization');
  const uid = /^\/app\/oidc\/([\w-]+)$/.exec(page.pathname)?.[1];
  if (!uid) throw new Error(`authorization: sent to ${page.pathname}, not to the sign-in page`);
  const loggedIn = await jar.fetch(`${baseUrl}/api/oidc/interaction/${uid}/login`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: '{}',
  });
  if (loggedIn.status !== 200) throw new Error(`interaction login: ${loggedIn.status} ${await loggedIn.text()}`);
  const { redirect_to } = (await loggedIn.json()) as { redirect_to: string };
  // The provider names its addresses by the issuer (a public https name, as behind a reverse proxy);
  // the bench reaches the same server on the loopback, as the proxy would.
  const resume = new URL(redirect_to);
  const callback = await locationOf(await jar.fetch(`${baseUrl}${resume.pathname}${resume.search}`), 'resume');
  const code = callback.searchParams.get('code');
  if (!callback.href.startsWith(BENCH_REDIRECT_URI) || !code)
    throw new Error(
      `resume: sent to ${callback.pathname}${callback.search.slice(0, 80)}, not to the callback with a code`,
    );
  return { code, verifier };
}

/** The form body of a code exchange (RFC 6749 §4.1.3 with RFC 7636 §4.5's code_verifier). */
export function exchangeBody({ code, verifier }: PreparedCode): string {
  return new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    redirect_uri: BENCH_REDIRECT_URI,
    code_verifier: verifier,
  }).toString();
}

/**
 * Runs `work` on `concurrency` workers until `count` results are in (or, with `untilMs`, until that
 * moment), and returns them with each one's duration. A failed piece of work is retried a few times
 * and then ends the preparation with its error: the set-up may fail, the measured run must not.
 */
export async function inParallel<T>(
  concurrency: number,
  work: () => Promise<T>,
  { count = Number.POSITIVE_INFINITY, untilMs = Number.POSITIVE_INFINITY } = {},
): Promise<{ results: T[]; ms: number[]; failures: number }> {
  const results: T[] = [];
  const ms: number[] = [];
  let started = 0;
  let failures = 0;
  const worker = async (): Promise<void> => {
    while (started < count && performance.now() < untilMs) {
      started += 1;
      for (let attempt = 1; ; attempt++) {
        const at = performance.now();
        try {
          results.push(await work());
          ms.push(performance.now() - at);
          break;
        } catch (error) {
          failures += 1;
          if (attempt >= 3) throw error;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { results, ms, failures };
}
