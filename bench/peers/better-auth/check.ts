/**
 * Smoke test of the better-auth peer: `npx tsx bench/peers/better-auth/check.ts`.
 * Forks server.ts with a small database, then drives it over HTTP the way the benchmark will:
 * products read, password sign-in, two-factor (TOTP) sign-in. Exits 0 when every step passes.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Secret, TOTP } from 'otpauth';
import type { PeerReadyMessage, PeerServerMessage } from './server.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const STARTUP_TIMEOUT_MS = 120_000;

function startPeer(dataDir: string): ChildProcess {
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    BENCH_DATA_DIR: dataDir,
    BENCH_USERS: '20',
    BENCH_TOTP_USERS: '5',
    BENCH_PRODUCTS: '1000',
  };
  return fork(path.join(HERE, 'server.ts'), [], {
    env,
    execArgv: ['--import', import.meta.resolve('tsx')],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function waitForReady(child: ChildProcess): Promise<PeerReadyMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the peer was not ready within ${STARTUP_TIMEOUT_MS / 1000} s`)),
      STARTUP_TIMEOUT_MS,
    );
    child.once('message', (message: PeerServerMessage) => {
      clearTimeout(timer);
      if (message.type === 'ready') resolve(message);
      else reject(new Error(`the peer failed to start:\n${message.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the peer exited early (code ${code}, signal ${signal})`));
    });
  });
}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** The `Cookie` header value a client would send back after this response (expired cookies dropped). */
function cookiesOf(response: Response): string {
  return response.headers
    .getSetCookie()
    .filter((cookie) => !/;\s*max-age=0\s*(;|$)/i.test(cookie))
    .map((cookie) => cookie.split(';', 1)[0]!.trim())
    .join('; ');
}

function hasCookie(cookie: string, name: string): boolean {
  return cookie.split('; ').some((pair) => pair.startsWith(`${name}=`));
}

async function readProducts(url: string, cookie?: string): Promise<Response> {
  return fetch(`${url}/api/products?limit=20&offset=0`, { headers: cookie ? { cookie } : {} });
}

async function signIn(ready: PeerReadyMessage, email: string): Promise<Response> {
  return fetch(`${ready.url}/api/auth/sign-in/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: ready.url },
    body: JSON.stringify({ email, password: ready.password }),
  });
}

async function run(ready: PeerReadyMessage): Promise<void> {
  console.log(
    `better-auth ${ready.version} at ${ready.url}; ${ready.emails.length} users, ${ready.totpUsers.length} with TOTP; cookie cache ${ready.cookieCache ? 'on' : 'off'}`,
  );
  console.log(`password hash: ${ready.passwordHash}`);

  // (a) protected read
  const read = await readProducts(ready.url, ready.sessionCookie);
  const body = (await read.json()) as {
    items: Record<string, unknown>[];
    total: number;
    limit: number;
    offset: number;
  };
  assert(read.status === 200, `read with the session cookie: expected 200, got ${read.status} ${JSON.stringify(body)}`);
  assert(
    body.items.length === 20 && body.total === 1000 && body.limit === 20 && body.offset === 0,
    `read: unexpected body ${JSON.stringify(body).slice(0, 300)}`,
  );
  const first = body.items[0]!;
  assert(
    first.id === 1 && first.name === 'Product 1' && first.price === 1.99 && typeof first.created_at === 'string',
    `read: unexpected first item ${JSON.stringify(first)}`,
  );
  console.log(`ok  (a) GET /api/products with the session cookie -> 200, ${body.items.length} items of ${body.total}`);
  const anonymous = await readProducts(ready.url);
  assert(anonymous.status === 401, `read without a cookie: expected 401, got ${anonymous.status}`);
  console.log(`ok  (a) GET /api/products without a cookie -> 401 ${await anonymous.text()}`);

  // (b) password sign-in, then 5 sequential ones timed
  const login = await signIn(ready, ready.emails[1]!);
  const loginCookie = cookiesOf(login);
  const loginText = await login.text();
  assert(login.status === 200, `password sign-in: expected 200, got ${login.status} ${loginText}`);
  assert(
    hasCookie(loginCookie, 'better-auth.session_token'),
    `password sign-in set no session cookie (got "${loginCookie}")`,
  );
  assert(
    (await readProducts(ready.url, loginCookie)).status === 200,
    'the sign-in session cookie cannot read products',
  );
  console.log('ok  (b) POST /api/auth/sign-in/email -> 200 + better-auth.session_token (reads products)');
  const started = performance.now();
  for (let i = 0; i < 5; i++) {
    const response = await signIn(ready, ready.emails[2 + i]!);
    const text = await response.text();
    assert(response.status === 200, `timed sign-in ${i + 1}: expected 200, got ${response.status} ${text}`);
  }
  console.log(
    `    password sign-in, 5 sequential: ${((performance.now() - started) / 5).toFixed(1)} ms each on average`,
  );

  // (c) two-factor sign-in: password step, then the TOTP code with the two_factor cookie; every TOTP user in turn
  // (more than the plugin's default 3 requests / 10 s on /two-factor/*, so the lifted limit is checked too), timed.
  let twoFactorMs = 0;
  for (const [index, user] of ready.totpUsers.entries()) {
    const started = performance.now();
    const step1 = await signIn(ready, user.email);
    const step1Body = (await step1.json()) as { twoFactorRedirect?: boolean; twoFactorMethods?: string[] };
    const challenge = cookiesOf(step1);
    assert(
      step1.status === 200 && step1Body.twoFactorRedirect === true,
      `2FA step 1 (${user.email}): expected 200 + twoFactorRedirect, got ${step1.status} ${JSON.stringify(step1Body)}`,
    );
    assert(
      hasCookie(challenge, 'better-auth.two_factor') && !hasCookie(challenge, 'better-auth.session_token'),
      `2FA step 1: expected only the two_factor cookie, got "${challenge}"`,
    );
    const code = new TOTP({
      secret: Secret.fromBase32(user.secret),
      digits: 6,
      period: 30,
      algorithm: 'SHA1',
    }).generate();
    const step2 = await fetch(`${ready.url}/api/auth/two-factor/verify-totp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ready.url, cookie: challenge },
      body: JSON.stringify({ code }),
    });
    const sessionCookie = cookiesOf(step2);
    const step2Text = await step2.text();
    twoFactorMs += performance.now() - started;
    assert(step2.status === 200, `2FA step 2 (${user.email}): expected 200, got ${step2.status} ${step2Text}`);
    assert(
      hasCookie(sessionCookie, 'better-auth.session_token'),
      `2FA step 2 set no session cookie (got "${sessionCookie}")`,
    );
    const twoFactorRead = await readProducts(ready.url, sessionCookie);
    assert(twoFactorRead.status === 200, `the two-factor session cannot read products: ${twoFactorRead.status}`);
    await twoFactorRead.arrayBuffer();
    if (index === 0) {
      console.log(
        `ok  (c) POST /api/auth/sign-in/email (TOTP user) -> 200 ${JSON.stringify(step1Body)} + better-auth.two_factor cookie`,
      );
      console.log(
        'ok  (c) POST /api/auth/two-factor/verify-totp {code} + two_factor cookie -> 200 + better-auth.session_token (reads products)',
      );
    }
  }
  console.log(
    `ok  (c) all ${ready.totpUsers.length} TOTP users signed in; both steps, sequential: ${(twoFactorMs / ready.totpUsers.length).toFixed(1)} ms each on average`,
  );

  const victim = ready.totpUsers[1]!;
  const right = new TOTP({
    secret: Secret.fromBase32(victim.secret),
    digits: 6,
    period: 30,
    algorithm: 'SHA1',
  }).generate();
  const wrong = await fetch(`${ready.url}/api/auth/two-factor/verify-totp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      origin: ready.url,
      cookie: cookiesOf(await signIn(ready, victim.email)),
    },
    body: JSON.stringify({ code: String((Number(right) + 500_000) % 1_000_000).padStart(6, '0') }),
  });
  assert(wrong.status === 401, `a wrong TOTP code: expected 401, got ${wrong.status}`);
  console.log('ok  (c) a wrong TOTP code -> 401');
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'twofold-bench-better-auth-'));
const child = startPeer(dataDir);
let exitCode = 0;
try {
  const started = performance.now();
  const ready = await waitForReady(child);
  console.log(`peer ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await run(ready);
  console.log('all checks passed');
} catch (error) {
  console.error(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
  exitCode = 1;
} finally {
  if (child.connected) child.disconnect();
  if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child.once('exit', resolve));
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);
