import * as oidc from 'openid-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { login, signUp, type Session } from '../support/app.js';
import { testDialects } from '../support/databases.js';
import { CLI_ACTOR, startOidcServer, type OidcTestServer } from '../support/oidc.js';
import { challenge, enableTOTP, nextStep, secondStep, totpNow } from '../support/two-factor.js';
import {
  Browser,
  REDIRECT_URI,
  finish,
  signInAndConsent,
  startAuthorization,
  type Started,
} from '../support/oidc-browser.js';

const dialects = await testDialects();

describe.each(dialects)('OpenID Connect sign-in through the interaction API (%s)', (dialect) => {
  let server: OidcTestServer;
  let app: { client_id: string; secret: string };
  let firstParty: { client_id: string; secret: string };
  let rp: oidc.Configuration;

  async function createClient(name: string, skipConsent: boolean) {
    const created = await server.clients.create(
      {
        name,
        redirectUris: [REDIRECT_URI],
        public: false,
        grants: ['authorization_code', 'refresh_token'],
        scopes: ['openid', 'profile', 'email', 'offline_access'],
        skipConsent,
      },
      CLI_ACTOR,
    );
    return { client_id: created.client.client_id, secret: created.secret! };
  }

  const start = (config: oidc.Configuration, extra: Record<string, string> = {}): Promise<Started> =>
    startAuthorization(server.issuer, config, { prompt: 'consent', ...extra });

  beforeAll(async () => {
    server = await startOidcServer(dialect);
    app = await createClient('Wiki', false);
    firstParty = await createClient('Intranet', true);
    rp = await server.relyingParty(app.client_id, app.secret);
  });
  afterAll(async () => server.close());
  // The provider stamps its interactions and tokens with the real time, Twofold's sign-in with the
  // injected clock: each test starts with the two agreeing.
  beforeEach(() => server.clock.set(new Date()));

  it('signs a person in with a password: the page sees the client and scopes, consent is audited, the ID token carries amr, auth_time and the nonce; userinfo and rotating refresh work', async () => {
    const person = await signUp(server.app);
    const started = await start(rp);
    const view = await started.browser.request(`/api/oidc/interaction/${started.uid}`);
    expect(view.status).toBe(200);
    expect(view.headers.get('cache-control')).toBe('no-store');
    expect(await view.json()).toEqual({
      uid: started.uid,
      prompt: 'login',
      client: { client_id: app.client_id, client_name: 'Wiki' },
      scopes: ['openid', 'profile', 'email', 'offline_access'],
      claims: [],
      reauth_required: false,
      max_age: null,
      acr_values: [],
    });

    const callback = await signInAndConsent(started, person);
    const tokens = await finish(rp, started, callback);
    const claims = tokens.claims()!;
    expect(claims.sub).toBe(String(person.userId));
    expect(claims.nonce).toBe(started.nonce);
    expect(claims.amr).toEqual(['pwd']);
    expect(claims.acr).toBe('pwd');
    expect(claims.auth_time).toBe(Math.floor(server.clock.now().getTime() / 1000));

    const info = await oidc.fetchUserInfo(rp, tokens.access_token, claims.sub);
    expect(info.preferred_username).toBe(person.username);

    const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    // RFC 9700 §4.14.2: the spent refresh token does not work again.
    await expect(oidc.refreshTokenGrant(rp, tokens.refresh_token!)).rejects.toThrow();

    await vi.waitFor(async () => {
      const consent = await server.database.handle.db
        .selectFrom('audit_events')
        .select(['user_id', 'detail'])
        .where('type', '=', 'oidc.consent')
        .where('user_id', '=', person.userId)
        .executeTakeFirst();
      expect(consent?.detail).toContain(app.client_id);
    });
  });

  it('a person with TOTP gets amr otp and acr mfa; acr_values=mfa refuses a password-only sign-in', async () => {
    const person = await signUp(server.app);
    const { secret } = await enableTOTP(server, person);
    nextStep(server);
    const mfaToken = await challenge(server, person.username);
    const second = await secondStep(server, mfaToken, totpNow(server, secret));
    const twoFactor: Session = {
      ...person,
      accessToken: second.json().access_token,
      auth: { authorization: `Bearer ${second.json().access_token}` },
    };

    const started = await start(rp, { acr_values: 'mfa' });
    const callback = await signInAndConsent(started, twoFactor);
    const claims = (await finish(rp, started, callback)).claims()!;
    expect(claims.amr).toEqual(expect.arrayContaining(['pwd', 'otp']));
    expect(claims.acr).toBe('mfa');

    const other = await signUp(server.app);
    const strict = await start(rp, { acr_values: 'mfa' });
    const refused = await strict.browser.post(`/api/oidc/interaction/${strict.uid}/login`, other.auth);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toBe('reauth_required');
  });

  it('prompt=login refuses a sign-in older than the request, and accepts one made after it', async () => {
    server.clock.set(new Date(Date.now() - 10_000));
    const person = await signUp(server.app);
    const started = await start(rp, { prompt: 'login consent' });
    const view = (await (await started.browser.request(`/api/oidc/interaction/${started.uid}`)).json()) as {
      reauth_required: boolean;
    };
    expect(view.reauth_required).toBe(true);
    const stale = await started.browser.post(`/api/oidc/interaction/${started.uid}/login`, person.auth);
    expect(stale.status).toBe(403);
    expect(((await stale.json()) as { error: string }).error).toBe('reauth_required');

    server.clock.set(new Date(Date.now() + 2_000));
    const fresh = await login(server.app, person.username);
    const callback = await signInAndConsent(started, fresh);
    expect((await finish(rp, started, callback)).claims()!.sub).toBe(String(person.userId));
  });

  it('a client made with --skip-consent gets its code straight after the sign-in', async () => {
    const person = await signUp(server.app);
    const config = await server.relyingParty(firstParty.client_id, firstParty.secret);
    const started = await start(config, { prompt: 'login' });
    server.clock.set(new Date(Date.now() + 2_000));
    const fresh = await login(server.app, person.username);
    const loggedIn = await started.browser.post(`/api/oidc/interaction/${started.uid}/login`, fresh.auth);
    const step = await started.browser.navigate(((await loggedIn.json()) as { redirect_to: string }).redirect_to);
    expect(step.uid).toBeUndefined();
    expect(step.callback).toBeDefined();
    const tokens = await finish(config, started, step.callback!);
    expect(tokens.claims()!.sub).toBe(String(person.userId));
  });

  describe('attacks', () => {
    it('another browser cannot read or finish an interaction from its uid alone: the interaction cookie binds it', async () => {
      const victim = await signUp(server.app);
      const mallory = await signUp(server.app);
      const started = await start(rp);
      // Mallory's browser never had the victim's interaction cookie.
      const stranger = new Browser(started.browser.origin);
      expect((await stranger.request(`/api/oidc/interaction/${started.uid}`)).status).toBe(404);
      expect((await stranger.post(`/api/oidc/interaction/${started.uid}/login`, mallory.auth)).status).toBe(404);
      // With a cookie of an interaction of her own, the victim's uid is still not hers.
      const own = await start(rp);
      own.browser.cookies.forEach((value, name) => stranger.cookies.set(name, value));
      const crossed = await stranger.post(`/api/oidc/interaction/${started.uid}/login`, mallory.auth);
      expect(crossed.status).toBe(404);
      // The victim's own interaction is untouched and finishes as the victim.
      const callback = await signInAndConsent(started, victim);
      expect((await finish(rp, started, callback)).claims()!.sub).toBe(String(victim.userId));
    });

    it('consent with another person’s token than the one who signed in is refused', async () => {
      const person = await signUp(server.app);
      const mallory = await signUp(server.app);
      const started = await start(rp);
      const loggedIn = await started.browser.post(`/api/oidc/interaction/${started.uid}/login`, person.auth);
      const step = await started.browser.navigate(((await loggedIn.json()) as { redirect_to: string }).redirect_to);
      const refused = await started.browser.post(`/api/oidc/interaction/${step.uid}/consent`, mallory.auth);
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: string }).error).toBe('forbidden');
    });

    it('each step answers only its own call: consent before the sign-in, and login at the consent step, are refused', async () => {
      const person = await signUp(server.app);
      const started = await start(rp);
      const early = await started.browser.post(`/api/oidc/interaction/${started.uid}/consent`, person.auth);
      expect(early.status).toBe(400);
      const loggedIn = await started.browser.post(`/api/oidc/interaction/${started.uid}/login`, person.auth);
      const step = await started.browser.navigate(((await loggedIn.json()) as { redirect_to: string }).redirect_to);
      const again = await started.browser.post(`/api/oidc/interaction/${step.uid}/login`, person.auth);
      expect(again.status).toBe(400);
    });

    it('a revoked session’s token, a missing one, an unknown field and a malformed uid are refused', async () => {
      const person = await signUp(server.app);
      const started = await start(rp);
      const url = `/api/oidc/interaction/${started.uid}/login`;
      expect((await started.browser.post(url, {})).status).toBe(401);
      const extra = await started.browser.post(url, person.auth, { account_id: '1' });
      expect(extra.status).toBe(400);
      expect(((await extra.json()) as { error: string }).error).toBe('validation_failed');
      expect((await started.browser.request('/api/oidc/interaction/..%2F..%2Fx')).status).toBe(400);
      const logout = await server.app.inject({
        method: 'POST',
        url: '/api/auth/logout',
        payload: { refresh_token: person.refreshToken },
      });
      expect(logout.statusCode).toBeLessThan(300);
      expect((await started.browser.post(url, person.auth)).status).toBe(401);
    });

    it('a finished interaction cannot be replayed, and an expired one is gone', async () => {
      const person = await signUp(server.app);
      const started = await start(rp);
      const callback = await signInAndConsent(started, person);
      await finish(rp, started, callback);
      expect((await started.browser.post(`/api/oidc/interaction/${started.uid}/login`, person.auth)).status).toBe(404);

      const late = await start(rp);
      server.clock.advance(3601_000);
      const fresh = await login(server.app, person.username);
      expect((await late.browser.request(`/api/oidc/interaction/${late.uid}`)).status).toBe(404);
      expect((await late.browser.post(`/api/oidc/interaction/${late.uid}/login`, fresh.auth)).status).toBe(404);
    });

    it('max_age refuses a sign-in older than it allows', async () => {
      server.clock.set(new Date(Date.now() - 120_000));
      const person = await signUp(server.app);
      server.clock.set(new Date());
      const started = await start(rp, { max_age: '60' });
      const refused = await started.browser.post(`/api/oidc/interaction/${started.uid}/login`, person.auth);
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: string }).error).toBe('reauth_required');
    });
  });
});
