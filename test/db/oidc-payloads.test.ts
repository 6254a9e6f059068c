import { errors } from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock, type ManualClock } from '../../src/lib/clock.js';
import { createOidcAdapterFactory } from '../../src/modules/oidc/oidc-payloads.repository.js';
import { endProviderSessions } from '../../src/modules/oidc/provider-sessions.js';
import { testDialects, type TestDatabase } from '../support/databases.js';
import { T0, createMigratedDatabase, digits } from './migrated-database.js';

const dialects = await testDialects();

/** oidc-provider's storage (its adapter interface) on each database, including its one-winner spend. */
describe.each(dialects)('OpenID Connect payloads on %s', (dialect) => {
  let database: TestDatabase;
  let clock: ManualClock;
  let adapter: ReturnType<typeof createOidcAdapterFactory>;
  beforeAll(async () => {
    database = await createMigratedDatabase(dialect);
    clock = createManualClock(new Date(T0));
    adapter = createOidcAdapterFactory(database.handle.db, database.handle.dialect, clock);
  });
  afterAll(async () => database?.drop());

  const id = (): string => `id_${digits(12)}`;

  it('stores, finds by id and by uid, replaces on upsert, and forgets a destroyed payload', async () => {
    const sessions = adapter('Session');
    const key = id();
    const uid = id();
    await sessions.upsert(key, { jti: key, uid, accountId: '7', loginTs: 1 }, 3600);
    expect(await sessions.find(key)).toMatchObject({ uid, accountId: '7' });
    expect(await sessions.findByUid(uid)).toMatchObject({ jti: key });
    // Another model with the same id is another row.
    expect(await adapter('Grant').find(key)).toBeUndefined();
    await sessions.upsert(key, { jti: key, uid, accountId: '7', loginTs: 2 }, 3600);
    expect(await sessions.find(key)).toMatchObject({ loginTs: 2 });
    await sessions.destroy(key);
    expect(await sessions.find(key)).toBeUndefined();
  });

  it('an expired payload is not found, and expired rows are deleted as writes go on', async () => {
    const codes = adapter('AuthorizationCode');
    const key = id();
    await codes.upsert(key, { jti: key, grantId: id() }, 60);
    clock.advance(60_000);
    expect(await codes.find(key)).toBeUndefined();
    // The periodic sweep runs every few hundred writes, shared by every model.
    for (let i = 0; i < 200; i += 1) await adapter('Interaction').upsert(id(), { returnTo: 'x' }, 3600);
    const left = await database.handle.db
      .selectFrom('oidc_payloads')
      .select('id')
      .where('model', '=', 'AuthorizationCode')
      .where('id', '=', key)
      .executeTakeFirst();
    expect(left).toBeUndefined();
  });

  it('of two parallel spends of one code exactly one wins, and the loser ends the whole grant', async () => {
    const codes = adapter('AuthorizationCode');
    const tokens = adapter('AccessToken');
    const grantId = id();
    const code = id();
    const token = id();
    await codes.upsert(code, { jti: code, grantId }, 60);
    await tokens.upsert(token, { jti: token, grantId }, 3600);
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => codes.consume(code)));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const lost of outcomes.filter((o) => o.status === 'rejected'))
      expect((lost as PromiseRejectedResult).reason).toBeInstanceOf(errors.InvalidGrant);
    // A replayed code revokes what the grant issued (RFC 6749 §4.1.2).
    expect(await tokens.find(token)).toBeUndefined();
  });

  it('a consumed payload reads back as consumed; revokeByGrantId removes only that grant’s rows of the model', async () => {
    const refresh = adapter('RefreshToken');
    const [mine, other] = [id(), id()];
    const [grant, otherGrant] = [id(), id()];
    await refresh.upsert(mine, { jti: mine, grantId: grant }, 3600);
    await refresh.upsert(other, { jti: other, grantId: otherGrant }, 3600);
    await refresh.consume(mine);
    expect((await refresh.find(mine))?.consumed).toBeTruthy();
    await refresh.revokeByGrantId(grant);
    expect(await refresh.find(mine)).toBeUndefined();
    expect(await refresh.find(other)).toMatchObject({ grantId: otherGrant });
  });

  it('signing an account out ends its provider sessions only, not another account’s or its grants', async () => {
    const sessions = adapter('Session');
    const grants = adapter('Grant');
    const [mine, theirs, grant] = [id(), id(), id()];
    await sessions.upsert(mine, { jti: mine, uid: id(), accountId: '41' }, 3600);
    await sessions.upsert(theirs, { jti: theirs, uid: id(), accountId: '42' }, 3600);
    await grants.upsert(grant, { jti: grant, accountId: '41', clientId: 'c' }, 3600);
    await endProviderSessions(database.handle.db, 41);
    expect(await sessions.find(mine)).toBeUndefined();
    expect(await sessions.find(theirs)).toMatchObject({ accountId: '42' });
    expect(await grants.find(grant)).toMatchObject({ accountId: '41' });
  });
});
