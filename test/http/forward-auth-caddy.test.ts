import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, signUp, uniqueName, type TestApp } from '../support/app.js';
import { browserLogin, sessionCookieOf } from '../support/forward-auth.js';
import { describeNotSelected } from '../support/not-selected.js';

const CADDY = process.env.CADDY_PATH ?? '/usr/bin/caddy';
const caddyHere = existsSync(CADDY);

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request to the proxy for `host` (a host name Caddy serves), as a browser would send it. */
function viaProxy(port: number, host: string, pathAndQuery: string, headers: Record<string, string> = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: pathAndQuery, headers: { host, ...headers } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.once('error', reject);
    req.end();
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    }),
  );
}

if (!caddyHere)
  describeNotSelected('Caddy forward_auth in front of an application', `${CADDY} is missing (Debian's caddy package)`);

/**
 * Debian's Caddy with `forward_auth` as docs/forward-auth.md configures it, in front of an application that
 * echoes the X-Auth-* headers it receives: the address Caddy's X-Forwarded-* headers name comes back in Twofold's
 * redirect, a signed-in browser passes with its name, headers a client makes up never reach the application, and
 * a host for administrators answers 403.
 */
describe.runIf(caddyHere)('Caddy forward_auth in front of an application', () => {
  let t: TestApp;
  let caddy: ChildProcess;
  let echo: Server;
  let dir: string;
  let port: number;
  let caddyLog = '';

  beforeAll(async () => {
    echo = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ user: req.headers['x-auth-user'] ?? null, amr: req.headers['x-auth-amr'] ?? null }));
    });
    const echoPort = await listen(echo);
    // A port free a moment ago, for Caddy: Twofold must know it before it starts (PUBLIC_URL).
    const probe = createServer();
    port = await listen(probe);
    await new Promise((resolve) => probe.close(resolve));
    t = await buildTestApp({
      env: {
        PUBLIC_URL: `http://auth.example.test:${port}`,
        SESSION_COOKIE_DOMAIN: 'example.test',
        FORWARD_AUTH_DOMAINS: 'example.test',
        FORWARD_AUTH_RULES: 'admin.example.test=admin',
      },
    });
    const twofold = await t.app.listen({ port: 0, host: '127.0.0.1' });
    dir = mkdtempSync(path.join(tmpdir(), 'twofold-caddy-'));
    const upstream = new URL(twofold).host;
    // The application's block is docs/forward-auth.md's, on plain HTTP for the test.
    writeFileSync(
      path.join(dir, 'Caddyfile'),
      `{
	admin off
	auto_https off
	storage file_system ${dir}/data
}

http://app.example.test:${port}, http://admin.example.test:${port} {
	forward_auth ${upstream} {
		uri /api/auth/forward?redirect=1
		copy_headers X-Auth-User X-Auth-Email X-Auth-Role X-Auth-Amr
	}
	reverse_proxy 127.0.0.1:${echoPort}
}
`,
    );
    caddy = spawn(CADDY, ['run', '--config', path.join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], {
      env: { PATH: process.env.PATH ?? '', HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
    });
    caddy.stderr?.on('data', (chunk: Buffer) => (caddyLog += chunk.toString()));
    for (let i = 0; i < 100; i++) {
      const up = await viaProxy(port, `app.example.test:${port}`, '/').then(
        () => true,
        () => false,
      );
      if (up) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`caddy did not start: ${caddyLog}`);
  });
  afterAll(async () => {
    if (caddy?.exitCode === null && caddy.pid !== undefined) {
      const exited = new Promise((resolve) => caddy.once('exit', resolve));
      process.kill(caddy.pid, 'SIGTERM');
      await exited;
    }
    await new Promise((resolve) => echo?.close(resolve));
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sends a person who is not signed in to the sign-in page with the address Caddy names, and never passes them', async () => {
    const answer = await viaProxy(port, `app.example.test:${port}`, '/reports?team=blue&x=1', {
      'x-auth-user': 'mallory',
    });
    expect(answer.status, caddyLog).toBe(302);
    expect(answer.headers.location).toBe(
      `http://auth.example.test:${port}/app/login?redirect=${encodeURIComponent(
        `http://app.example.test:${port}/reports?team=blue&x=1`,
      )}`,
    );
    expect(answer.body).not.toContain('mallory');
  });

  it('passes a signed-in browser with its name, whatever the client claims, and refuses the administrators host', async () => {
    const { username } = await signUp(t.app, uniqueName('caddy'));
    const cookie = `twofold_session=${sessionCookieOf(await browserLogin(t.app, username))}`;
    const answer = await viaProxy(port, `app.example.test:${port}`, '/', { cookie, 'x-auth-user': 'mallory' });
    expect(answer.status, caddyLog).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ user: username, amr: 'pwd' });
    const admin = await viaProxy(port, `admin.example.test:${port}`, '/', { cookie });
    expect(admin.status).toBe(403);
    // Caddy passes a client's X-Original-URL through: naming a host without a rule does not open this one.
    const disguised = await viaProxy(port, `admin.example.test:${port}`, '/', {
      cookie,
      'x-original-url': `http://app.example.test:${port}/`,
    });
    expect(disguised.status).toBe(403);
  });
});
