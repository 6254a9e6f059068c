import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { App } from '../../src/http/server.js';
import { createManualClock } from '../../src/lib/clock.js';
import type { PasswordHasher } from '../../src/lib/password-hasher.js';
import { PASSWORD, TEST_SECRETS, UNLIMITED, fastHasher, login, register, uniqueName } from '../support/app.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../support/databases.js';

const dialects = await testDialects();

/**
 * The login flow reads the account once, before it waits its turn on the account's budget. An
 * attempt that waited behind another must not check a password against the row it read before
 * waiting: a password changed meanwhile would let the old one in after the change (OWASP
 * Authentication Cheat Sheet: changing the password ends access with the old one).
 */
describe.each(dialects)('a login that waited on its budget checks the current password on %s', (dialect) => {
  let database: TestDatabase;
  let app: App;
  // The real hasher, with a gate: the next verify waits until the test opens it.
  let gate: Promise<void> | null = null;
  const hasher: PasswordHasher = {
    ...fastHasher,
    async verify(hash, password) {
      const waiting = gate;
      gate = null;
      if (waiting) await waiting;
      return fastHasher.verify(hash, password);
    },
  };
  // Counts reads of a users row by login name, so the test knows when a request has read it. The
  // statement is compiled once (src/db/compiled.ts) and keeps its query id: it is recognised when
  // compiled, and counted each time its result comes back.
  let userReads = 0;
  const byLoginName = new Set<unknown>();
  const counter: KyselyPlugin = {
    transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
      if (args.node.kind === 'SelectQueryNode') {
        const json = JSON.stringify(args.node, (_key, value: unknown) =>
          typeof value === 'bigint' ? String(value) : value,
        );
        if (json.includes('"name":"users"') && json.includes('username_normalized')) byLoginName.add(args.queryId);
      }
      return args.node;
    },
    async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      if (byLoginName.has(args.queryId)) userReads += 1;
      return args.result;
    },
  };

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    const config = loadConfig({ NODE_ENV: 'test', ...TEST_SECRETS, ...UNLIMITED, DATABASE_URL: database.url });
    const handle = database.handle;
    const watched = {
      db: handle.db.withPlugin(counter),
      dialect: handle.dialect,
      displayUrl: handle.displayUrl,
      ping: () => handle.ping(),
      close: () => handle.close(),
    };
    ({ app } = await createApp(config, {
      clock: createManualClock(new Date('2026-01-15T12:00:00Z')),
      hasher,
      database: watched,
    }));
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  const until = async (condition: () => boolean): Promise<void> => {
    while (!condition()) await new Promise((resolve) => setImmediate(resolve));
  };

  it('refuses the old password to an attempt queued behind another while the password changed', async () => {
    const username = uniqueName();
    expect((await register(app, username)).statusCode).toBe(201);
    const session = await login(app, username);
    let open!: () => void;
    gate = new Promise((resolve) => {
      open = resolve;
    });
    const readsBefore = userReads;
    // A holds the account's turn, its password check held at the gate.
    const first = app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: PASSWORD } });
    await until(() => gate === null);
    // B has read the account (old password hash) and waits behind A.
    const second = app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: PASSWORD } });
    await until(() => userReads >= readsBefore + 2);
    const changed = await app.inject({
      method: 'POST',
      url: '/api/auth/password/change',
      headers: session.auth,
      payload: { current_password: PASSWORD, new_password: 'a different horse battery staple' },
    });
    expect(changed.statusCode).toBe(204);
    open();
    // A's check began before the change, as it would have without the queue.
    expect((await first).statusCode).toBe(200);
    const late = await second;
    expect(late.statusCode).toBe(401);
    expect(late.json().error).toBe('invalid_credentials');
  });
});
