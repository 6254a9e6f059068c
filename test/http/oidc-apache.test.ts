import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp } from '../support/app.js';
import { describeNotSelected } from '../support/not-selected.js';
import { CLI_ACTOR, startOidcServer, type OidcTestServer } from '../support/oidc.js';

const APACHE = process.env.APACHE_PATH ?? '/usr/sbin/apache2';
const MODULES = process.env.APACHE_MODULES ?? '/usr/lib/apache2/modules';
const apacheHere = existsSync(APACHE) && existsSync(path.join(MODULES, 'mod_auth_openidc.so'));
const DOCS = fileURLToPath(new URL('../../docs/oidc.md', import.meta.url));

interface Answer {
  status: number;
  location: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A browser: its cookies (one host, 127.0.0.1, for both servers), and a navigation's headers. */
class Browser {
  private readonly cookies = new Map<string, string>();
  request(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
    const headers: Record<string, string> = {
      // mod_auth_openidc answers 401 rather than redirecting what does not look like a page navigation.
      accept: 'text/html',
      'sec-fetch-mode': 'navigate',
      ...init.headers,
    };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    return new Promise<Answer>((resolve, reject) => {
      const req = httpRequest(url, { method: init.method ?? 'GET', headers }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => {
          for (const line of res.headers['set-cookie'] ?? []) {
            const [pair = ''] = line.split(';');
            const at = pair.indexOf('=');
            this.cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1));
          }
          const location = res.headers.location && new URL(res.headers.location, url).href;
          resolve({ status: res.statusCode ?? 0, location, headers: res.headers, body });
        });
      });
      req.once('error', reject);
      req.end(init.body);
    });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

if (!apacheHere)
  describeNotSelected(
    'Apache mod_auth_openidc signs people in with Twofold',
    `${APACHE} or ${MODULES}/mod_auth_openidc.so is missing (Debian's apache2 and libapache2-mod-auth-openidc)`,
  );

/**
 * Debian's Apache with mod_auth_openidc, configured with docs/oidc.md's directives as they are written there
 * (only the addresses and the client's credentials replaced), in front of a static page: a browser is sent to
 * Twofold's authorization endpoint with PKCE, signs in through the sign-in step's API (the page's part), consents,
 * and Apache exchanges the code, checks the ID token, reads userinfo and serves the page with the username as
 * REMOTE_USER.
 */
describe.runIf(apacheHere)('Apache mod_auth_openidc signs people in with Twofold', () => {
  let server: OidcTestServer;
  let apache: ChildProcess;
  let dir: string;
  let port: number;
  let apacheLog = '';
  /** Apache's start-up errors and its error log, for a failing assertion's message. */
  const logs = (): string => {
    const file = dir ? path.join(dir, 'error.log') : '';
    return `${apacheLog}${file && existsSync(file) ? readFileSync(file, 'utf8') : ''}`;
  };

  beforeAll(async () => {
    server = await startOidcServer('sqlite');
    server.clock.set(new Date());
    port = await freePort();
    const site = `http://127.0.0.1:${port}`;
    const { client, secret } = await server.clients.create(
      { name: 'Intranet', redirectUris: [`${site}/oidc-callback`], public: false, skipConsent: false },
      CLI_ACTOR,
    );
    const documented = /```apache\n([\s\S]*?)```/.exec(readFileSync(DOCS, 'utf8'))?.[1];
    if (!documented) throw new Error('docs/oidc.md has no apache block');
    const directives = documented
      .replaceAll('https://auth.example.com', server.issuer)
      .replaceAll('https://intranet.example.com', site)
      .replace('<client_id>', client.client_id)
      .replace('<client_secret>', secret!)
      .replace('<passphrase>', 'a-test-passphrase-of-forty-characters-xx');
    dir = mkdtempSync(path.join(tmpdir(), 'twofold-apache-'));
    // Apache's workers (nobody, when the test runs as root) read the page.
    chmodSync(dir, 0o755);
    mkdirSync(path.join(dir, 'www'));
    writeFileSync(path.join(dir, 'www/index.html'), 'the intranet');
    const load = (name: string, file: string) => `LoadModule ${name}_module ${MODULES}/${file}.so`;
    writeFileSync(
      path.join(dir, 'httpd.conf'),
      [
        `ServerRoot ${dir}`,
        'ServerName 127.0.0.1',
        `PidFile ${dir}/httpd.pid`,
        `ErrorLog ${dir}/error.log`,
        'LogLevel warn',
        `Listen 127.0.0.1:${port}`,
        ...(process.getuid?.() === 0 ? ['User nobody', 'Group nogroup'] : []),
        load('mpm_event', 'mod_mpm_event'),
        load('authz_core', 'mod_authz_core'),
        load('authz_user', 'mod_authz_user'),
        load('authn_core', 'mod_authn_core'),
        load('headers', 'mod_headers'),
        load('auth_openidc', 'mod_auth_openidc'),
        `<VirtualHost 127.0.0.1:${port}>`,
        `DocumentRoot ${dir}/www`,
        // What the application behind Apache sees.
        'Header always set X-Remote-User "expr=%{REMOTE_USER}"',
        'Header always set X-Claim-Amr "expr=%{reqenv:OIDC_CLAIM_amr}"',
        directives,
        '</VirtualHost>',
        '',
      ].join('\n'),
    );
    apache = spawn(APACHE, ['-f', path.join(dir, 'httpd.conf'), '-DFOREGROUND'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    apache.stderr?.on('data', (chunk: Buffer) => (apacheLog += chunk.toString()));
    for (let i = 0; i < 100; i++) {
      const up = await new Browser().request(`${site}/oidc-callback`).then(
        () => true,
        () => false,
      );
      if (up) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`apache did not start: ${logs()}`);
  });
  afterAll(async () => {
    if (apache?.exitCode === null && apache.pid !== undefined) {
      const exited = new Promise((resolve) => apache.once('exit', resolve));
      process.kill(apache.pid, 'SIGTERM');
      await exited;
    }
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sends the browser to Twofold with PKCE, and after the sign-in and consent serves the page to the username', async () => {
    const person = await signUp(server.app);
    const browser = new Browser();
    const asked = await browser.request(`http://127.0.0.1:${port}/index.html`);
    expect(asked.status, logs()).toBe(302);
    const authorization = new URL(asked.location!);
    expect(authorization.origin + authorization.pathname).toBe(`${server.issuer}/oidc/auth`);
    expect(authorization.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorization.searchParams.get('scope')).toBe('openid profile email');

    const toPage = await browser.request(asked.location!);
    const uid = /\/app\/oidc\/([\w-]+)$/.exec(toPage.location ?? '')?.[1];
    expect(uid, toPage.body).toBeDefined();
    const post = (step: string, id: string) =>
      browser.request(`${server.issuer}/api/oidc/interaction/${id}/${step}`, {
        method: 'POST',
        headers: { ...person.auth, 'content-type': 'application/json' },
        body: '{}',
      });
    const loggedIn = await post('login', uid!);
    expect(loggedIn.status, loggedIn.body).toBe(200);
    const toConsent = await browser.request((JSON.parse(loggedIn.body) as { redirect_to: string }).redirect_to);
    const consentUid = /\/app\/oidc\/([\w-]+)$/.exec(toConsent.location ?? '')?.[1];
    const consented = await post('consent', consentUid!);
    expect(consented.status, consented.body).toBe(200);
    const toCallback = await browser.request((JSON.parse(consented.body) as { redirect_to: string }).redirect_to);
    expect(toCallback.location).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/oidc-callback\\?code=`));

    const callback = await browser.request(toCallback.location!);
    expect(callback.status, `${callback.body}\n${logs()}`).toBe(302);
    expect(callback.location).toBe(`http://127.0.0.1:${port}/index.html`);
    const page = await browser.request(callback.location!);
    expect(page.status, logs()).toBe(200);
    expect(page.body).toBe('the intranet');
    expect(page.headers['x-remote-user']).toBe(person.username);
    expect(page.headers['x-claim-amr']).toBe('pwd');
  });
});
