/**
 * The better-auth peer of `npm run bench`, run in a child process (fork + `--import tsx`, IPC) like
 * Twofold's side of the benchmark. It serves Twofold's workload with better-auth: email+password sign-in, the
 * `twoFactor` plugin (TOTP), and the same products read behind `auth.api.getSession`, on one
 * SQLite file in BENCH_DATA_DIR. It seeds through better-auth's own API, reports over IPC and exits
 * when the parent disconnects. Set NODE_ENV=production: better-auth reads it when it is imported.
 *
 * Env: BENCH_DATA_DIR (required), BENCH_USERS (1000), BENCH_TOTP_USERS (300), BENCH_PRODUCTS (1000),
 * BENCH_COOKIE_CACHE=1 to turn on better-auth's session cookie cache (off by default, as in better-auth).
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import SQLite from 'better-sqlite3';
import { betterAuth } from 'better-auth';
import { hashPassword } from 'better-auth/crypto';
import { getMigrations } from 'better-auth/db/migration';
import { fromNodeHeaders, toNodeHandler } from 'better-auth/node';
import { twoFactor } from 'better-auth/plugins';
import { TOTP, URI } from 'otpauth';

export const BENCH_PASSWORD = 'bench password 123';
const HOST = '127.0.0.1';
const APP_NAME = 'Twofold bench peer';

export interface PeerReadyMessage {
  type: 'ready';
  /** Base URL, e.g. http://127.0.0.1:41234 (auth routes under /api/auth/*, products at /api/products). */
  url: string;
  /** Every seeded user's password (BENCH_PASSWORD). */
  password: string;
  /** Users without two-factor. */
  emails: string[];
  /** Users with TOTP enabled and verified; `secret` is base32. */
  totpUsers: { email: string; secret: string }[];
  /** A `Cookie` header value of a signed-in non-2FA user, for the products read. */
  sessionCookie: string;
  /** The password-hash settings, e.g. "scrypt N=16384 r=16 p=1 keylen=64 (32 MiB; better-auth default)". */
  passwordHash: string;
  /** The better-auth version serving. */
  version: string;
  /** Whether better-auth's session cookie cache is on (BENCH_COOKIE_CACHE=1). */
  cookieCache: boolean;
}

export interface PeerFailedMessage {
  type: 'failed';
  message: string;
}

export type PeerServerMessage = PeerReadyMessage | PeerFailedMessage;

interface ProductRow {
  id: number;
  name: string;
  description: string;
  price_cents: number;
  quantity: number;
  created_at: number;
  updated_at: number;
}

function countFromEnv(name: string, fallback: number, min = 1): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`${name} must be an integer >= ${min} (got "${process.env[name]}")`);
  return value;
}

/**
 * better-auth hashes with @better-auth/utils/password (node:crypto scrypt on Node): read its parameters from the
 * installed source.
 */
function describePasswordHash(): string {
  const source = readFileSync(fileURLToPath(import.meta.resolve('@better-auth/utils/password')), 'utf8');
  const param = (name: string): string => {
    const value = new RegExp(`\\b${name}\\s*:\\s*(\\d+)`).exec(source)?.[1];
    if (!value) throw new Error(`cannot read scrypt parameter ${name} from @better-auth/utils/password`);
    return value;
  };
  if (!/\bscrypt\b/.test(source)) throw new Error('@better-auth/utils/password no longer uses scrypt');
  const N = Number(param('N'));
  const r = Number(param('r'));
  return `scrypt N=${N} r=${r} p=${param('p')} keylen=${param('dkLen')} (${(128 * N * r) / 2 ** 20} MiB; better-auth default)`;
}

function betterAuthVersion(): string {
  // better-auth's exports do not include package.json: find it next to the resolved entry point.
  const entry = fileURLToPath(import.meta.resolve('better-auth'));
  const manifest = JSON.parse(
    readFileSync(path.join(entry.slice(0, entry.lastIndexOf(`${path.sep}dist${path.sep}`)), 'package.json'), 'utf8'),
  ) as { version: string };
  return manifest.version;
}

/** `name=value` pairs of the cookies a response sets (dropping the ones it expires), as one `Cookie` header value. */
function cookieHeader(setCookies: string[]): string {
  return setCookies
    .filter((cookie) => !/;\s*max-age=0\s*(;|$)/i.test(cookie))
    .map((cookie) => cookie.split(';', 1)[0]!.trim())
    .join('; ');
}

function openDatabase(file: string): SQLite.Database {
  const sqlite = new SQLite(file);
  // The same pragmas as Twofold's SQLite (src/db/create-database.ts), so both run on the same file layout.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  return sqlite;
}

interface AuthOptions {
  sqlite: SQLite.Database;
  url: string;
  secret: string;
  cookieCache: boolean;
  /** Seeding only: store this one (real, default-settings) hash for every user instead of hashing each sign-up. */
  seedHash?: string;
}

function createAuth(options: AuthOptions) {
  const { seedHash } = options;
  return betterAuth({
    appName: APP_NAME,
    baseURL: options.url,
    secret: options.secret,
    trustedOrigins: [options.url],
    // better-auth's recommended SQLite driver: a better-sqlite3 instance, through its built-in Kysely adapter.
    database: options.sqlite,
    // Defaults kept: scrypt hashing, min length 8, autoSignIn after sign-up. No email verification (no mail in a
    // benchmark, as Twofold's).
    emailAndPassword: {
      enabled: true,
      ...(seedHash
        ? {
            password: {
              hash: async () => seedHash,
              verify: async ({ hash, password }: { hash: string; password: string }) =>
                hash === seedHash && password === BENCH_PASSWORD,
            },
          }
        : {}),
    },
    // Defaults kept (7-day sessions, refreshed daily). The cookie cache is opt-in in better-auth; BENCH_COOKIE_CACHE=1
    // turns it on with the docs' 5 minutes.
    ...(options.cookieCache ? { session: { cookieCache: { enabled: true, maxAge: 5 * 60 } } } : {}),
    // All benchmark load comes from 127.0.0.1, and the defaults (3 requests / 10 s on /sign-in/* and on the two-factor
    // plugin's
    // /two-factor/*, 100 / 10 s elsewhere) would measure the limiter. So the limiter stays on, in its default in-memory
    // store,
    // with limits lifted the way bench/run.ts lifts Twofold's per-IP limits (RATE_LIMIT_*=1000000).
    rateLimit: {
      enabled: true,
      storage: 'memory',
      window: 60,
      max: 1_000_000,
      customRules: {
        '/sign-in/*': { window: 60, max: 1_000_000 },
        '/sign-up/*': { window: 60, max: 1_000_000 },
        '/two-factor/*': { window: 60, max: 1_000_000 },
      },
    },
    // Off by default; said explicitly, as the benchmark must not talk to anything but 127.0.0.1.
    telemetry: { enabled: false },
    plugins: [twoFactor({ issuer: APP_NAME })],
  });
}

type Auth = ReturnType<typeof createAuth>;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

function createProductsHandler(auth: Auth, sqlite: SQLite.Database, url: string) {
  const page = sqlite.prepare<[number, number], ProductRow>(
    'select id, name, description, price_cents, quantity, created_at, updated_at from products order by id limit ? offset ?',
  );
  const count = sqlite.prepare<[], { total: number }>('select count(*) as total from products');
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const session = await auth.api.getSession({ headers: fromNodeHeaders(req.headers) });
    if (!session) return sendJson(res, 401, { error: 'unauthorized', message: 'Sign in first.' });
    const query = new URL(req.url ?? '/', url).searchParams;
    const limit = Number(query.get('limit') ?? 20);
    const offset = Number(query.get('offset') ?? 0);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100 || !Number.isInteger(offset) || offset < 0) {
      return sendJson(res, 400, { error: 'validation_failed', message: 'limit must be 1..100 and offset >= 0.' });
    }
    const items = page.all(limit, offset).map((row) => ({
      id: row.id,
      name: row.name,
      description: row.description,
      price: row.price_cents / 100,
      quantity: row.quantity,
      created_at: new Date(row.created_at).toISOString(),
      updated_at: new Date(row.updated_at).toISOString(),
    }));
    sendJson(res, 200, { items, total: count.get()?.total ?? 0, limit, offset });
  };
}

function seedProducts(sqlite: SQLite.Database, products: number): void {
  sqlite.exec(`create table if not exists products (
    id integer primary key autoincrement,
    name varchar(100) not null,
    description varchar(255) not null default '',
    price_cents bigint not null,
    quantity integer not null,
    created_by integer,
    created_at bigint not null,
    updated_at bigint not null
  )`);
  // Multi-row inserts of up to 500 rows, all in one transaction.
  const columns = '(name, description, price_cents, quantity, created_by, created_at, updated_at)';
  const insertChunk = (from: number, to: number): void => {
    const rows: (string | number | null)[] = [];
    const now = Date.now();
    for (let i = from; i <= to; i++)
      rows.push(`Product ${i}`, `Seeded product number ${i}`, Math.round((i + 0.99) * 100), i % 100, null, now, now);
    sqlite
      .prepare(
        `insert into products ${columns} values ${Array.from({ length: to - from + 1 }, () => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      )
      .run(rows);
  };
  sqlite.transaction(() => {
    for (let from = 1; from <= products; from += 500) insertChunk(from, Math.min(from + 499, products));
  })();
}

async function inBatches<T, R>(items: T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) results.push(...(await Promise.all(items.slice(i, i + size).map(work))));
  return results;
}

/** Signs a user up through better-auth's API and returns the session cookie it sets (autoSignIn). */
async function signUp(auth: Auth, email: string, name: string): Promise<string> {
  const { headers } = await auth.api.signUpEmail({
    body: { email, password: BENCH_PASSWORD, name },
    returnHeaders: true,
  });
  const cookie = cookieHeader(headers.getSetCookie());
  if (!cookie) throw new Error(`seeding: sign-up of ${email} set no session cookie`);
  return cookie;
}

/**
 * Enables TOTP through the plugin's API, then verifies a code so two-factor is really on. Returns the base32 secret.
 */
async function enableTotp(auth: Auth, email: string, cookie: string): Promise<string> {
  const headers = new Headers({ cookie });
  const enabled = await auth.api.enableTwoFactor({ body: { password: BENCH_PASSWORD, method: 'totp' }, headers });
  if (enabled.method !== 'totp') throw new Error(`seeding: enableTwoFactor for ${email} returned no totpURI`);
  const { totpURI } = enabled;
  const otp = URI.parse(totpURI);
  if (!(otp instanceof TOTP)) throw new Error(`seeding: ${totpURI} is not a TOTP URI`);
  await auth.api.verifyTOTP({ body: { code: otp.generate() }, headers });
  return otp.secret.base32;
}

async function start(servers: Server[], closers: (() => void)[]): Promise<PeerReadyMessage> {
  if (process.env.NODE_ENV !== 'production')
    throw new Error(
      `run the peer with NODE_ENV=production (better-auth reads it at import time; got "${process.env.NODE_ENV ?? ''}")`,
    );
  const dataDir = process.env.BENCH_DATA_DIR;
  if (!dataDir) throw new Error('BENCH_DATA_DIR must name a (temporary) directory for the SQLite file');
  const users = countFromEnv('BENCH_USERS', 1000, 2);
  const totpUsers = countFromEnv('BENCH_TOTP_USERS', 300, 0);
  if (totpUsers >= users)
    throw new Error('BENCH_TOTP_USERS must be smaller than BENCH_USERS (at least one user reads without two-factor)');
  const products = countFromEnv('BENCH_PRODUCTS', 1000);
  const cookieCache = process.env.BENCH_COOKIE_CACHE === '1';

  const sqlite = openDatabase(path.join(dataDir, 'better-auth.db'));
  closers.push(() => sqlite.close());

  // Bind first: better-auth wants its baseURL (and trusted origin) up front, and the port is ephemeral.
  let handle: (req: IncomingMessage, res: ServerResponse) => Promise<void> = async (_req, res) =>
    sendJson(res, 503, { error: 'starting' });
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error(error);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal' });
      else res.destroy();
    });
  });
  servers.push(server);
  server.listen(0, HOST);
  await once(server, 'listening');
  const url = `http://${HOST}:${(server.address() as AddressInfo).port}`;

  // A fresh high-entropy secret per run (better-auth refuses its default secret in production). Shared by the seeding
  // instance, as the TOTP secrets and backup codes it stores are encrypted with it.
  const secret = randomBytes(32).toString('base64');
  const auth = createAuth({ sqlite, url, secret, cookieCache });
  const { runMigrations } = await getMigrations(auth.options);
  await runMigrations();
  seedProducts(sqlite, products);

  const authHandler = toNodeHandler(auth);
  const productsHandler = createProductsHandler(auth, sqlite, url);
  handle = async (req, res) => {
    const pathname = (req.url ?? '/').split('?', 1)[0]!;
    if (pathname.startsWith('/api/auth/')) return authHandler(req, res);
    if (pathname === '/api/products' && req.method === 'GET') return productsHandler(req, res);
    sendJson(res, 404, { error: 'not_found' });
  };

  // Seeding goes through better-auth's API (sign-up, enable + verify TOTP) on a second instance over the same database
  // and
  // secret, which differs in one thing: every user gets the same stored password hash, made once by better-auth's own
  // hashPassword (default scrypt, random salt). A sign-in verifies it with the full default scrypt as for any other
  // hash,
  // so what is measured is unchanged, but seeding takes seconds instead of minutes (~0.2 s of scrypt per user
  // otherwise).
  const seeder = createAuth({ sqlite, url, secret, cookieCache, seedHash: await hashPassword(BENCH_PASSWORD) });
  // Users 1..(users - totpUsers) have no second factor; the last totpUsers get TOTP.
  const plain = users - totpUsers;
  const all = Array.from({ length: users }, (_, i) => i + 1);
  const seeded = await inBatches(all, 16, async (i) => {
    const email = `user${i}@bench.test`;
    const cookie = await signUp(seeder, email, `Bench user ${i}`);
    return i > plain ? { email, secret: await enableTotp(seeder, email, cookie) } : { email, secret: null };
  });

  // The read session comes from the serving instance: a real sign-in, scrypt verify included.
  const reader = seeded[0]!.email;
  const { headers } = await auth.api.signInEmail({
    body: { email: reader, password: BENCH_PASSWORD },
    returnHeaders: true,
  });
  const sessionCookie = cookieHeader(headers.getSetCookie());

  return {
    type: 'ready',
    url,
    password: BENCH_PASSWORD,
    emails: seeded.filter((user) => user.secret === null).map((user) => user.email),
    totpUsers: seeded.flatMap((user) => (user.secret === null ? [] : [{ email: user.email, secret: user.secret }])),
    sessionCookie,
    passwordHash: describePasswordHash(),
    version: betterAuthVersion(),
    cookieCache,
  };
}

async function main(): Promise<void> {
  if (!process.send)
    throw new Error('bench/peers/better-auth/server.ts is started by a parent process (it needs an IPC channel)');
  const servers: Server[] = [];
  const closers: (() => void)[] = [];
  let stopping = false;
  const stop = (code: number): void => {
    if (stopping) return;
    stopping = true;
    for (const server of servers) server.closeAllConnections();
    void Promise.allSettled(servers.map((server) => new Promise((resolve) => server.close(resolve)))).then(() => {
      for (const close of closers) close();
      process.exit(code);
    });
  };
  // The parent going away (normally or not) closes the IPC channel: never outlive it.
  process.on('disconnect', () => stop(0));
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));
  try {
    process.send(await start(servers, closers));
  } catch (error) {
    const message: PeerServerMessage = {
      type: 'failed',
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    };
    process.send(message, () => stop(1));
  }
}

// Only as the forked entry point: importing this module (for its types or BENCH_PASSWORD) starts nothing.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
