import { createServer, type Server } from 'node:http';
import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import type { Harness } from './harness.js';

/**
 * A relying party of Twofold's OpenID Connect provider as an application runs one: openid-client (OpenID Certified)
 * for discovery, the authorization URL and every call to the provider, and a small HTTP server of its own on
 * 127.0.0.1 whose `/callback` receives the browser at the end of the sign-in.
 */
export interface CallbackServer {
  /** `http://127.0.0.1:<port>/callback`: the redirect URI registered for the test's clients. */
  redirectUri: string;
  origin: string;
  /** The next callback the server receives (its full URL, as the application sees it). */
  next(): Promise<URL>;
  /** The next callback, once `page` has landed on it too (so that the page's next navigation is the test's own). */
  arrival(page: Page): Promise<URL>;
  close(): Promise<void>;
}

export async function startCallbackServer(): Promise<CallbackServer> {
  const received: URL[] = [];
  const waiting: ((url: URL) => void)[] = [];
  let origin = '';
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', origin);
    if (url.pathname !== '/callback') {
      response.writeHead(404).end();
      return;
    }
    const resolve = waiting.shift();
    if (resolve) resolve(url);
    else received.push(url);
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(
      // No favicon request: a 404 for it would be a console error of this page.
      '<!doctype html><html lang="en"><title>Wiki</title><link rel="icon" href="data:,"><h1 id="callback">The application received the answer</h1></html>',
    );
  });
  const next = (): Promise<URL> => {
    const first = received.shift();
    return first ? Promise.resolve(first) : new Promise((resolve) => waiting.push(resolve));
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    redirectUri: `${origin}/callback`,
    origin,
    next,
    async arrival(page) {
      const [url] = await Promise.all([next(), page.waitForURL((u) => u.origin === origin)]);
      return url;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface CreatedClient {
  client_id: string;
  client_secret: string;
}

/** `twofold client create … --json`, as an operator registers an application; throws with the CLI's stderr. */
export async function createClient(h: Harness, args: string[]): Promise<CreatedClient> {
  const created = await h.cli(['client', 'create', ...args, '--json']);
  if (created.code !== 0) throw new Error(`client create failed: ${created.stderr}`);
  return JSON.parse(created.stdout) as CreatedClient;
}

/**
 * openid-client's configuration for a confidential client, from Twofold's discovery document. The test server speaks
 * plain http on 127.0.0.1, which openid-client refuses unless told (production issuers are https).
 */
export function relyingParty(issuer: string, client: CreatedClient): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(issuer), client.client_id, undefined, oidc.ClientSecretBasic(client.client_secret), {
    execute: [oidc.allowInsecureRequests],
  });
}

export interface Authorization {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

/** An authorization request as a careful application makes it: PKCE S256 (RFC 7636), state and nonce. */
export async function authorization(
  config: oidc.Configuration,
  redirectUri: string,
  extra: Record<string, string> = {},
): Promise<Authorization> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email offline_access',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    // OpenID Connect Core 1.0 §11: offline_access (a refresh token) is asked for together with prompt=consent.
    ...(extra.scope === undefined && extra.prompt === undefined ? { prompt: 'consent' } : {}),
    ...extra,
  });
  return { url, verifier, state, nonce };
}

/** The token request for the code in `callback`; openid-client checks state, nonce, PKCE and the ID token. */
export function exchange(config: oidc.Configuration, started: Authorization, callback: URL) {
  return oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: started.verifier,
    expectedState: started.state,
    expectedNonce: started.nonce,
    idTokenExpected: true,
  });
}
