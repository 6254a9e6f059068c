import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { migrateToLatest, migrateUpTo } from '../../src/db/migrate.js';
import type { Database } from '../../src/db/schema.js';
import { createClientsRepository } from '../../src/modules/oidc/clients.repository.js';
import { presentClient } from '../../src/modules/oidc/clients.service.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../support/databases.js';
import { T0 } from './migrated-database.js';

const dialects = await testDialects();

/** The clients table as 0013 made it, before 0015. */
type Before = { oidc_clients: Omit<Database['oidc_clients'], 'post_logout_redirect_uris'> };

describe.each(dialects)('migration 0015 (post-logout redirect URIs of OpenID Connect clients) on %s', (dialect) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    await migrateUpTo(database.handle, '0014-oidc-accounts');
  });
  afterAll(async () => database?.drop());

  it('gives the clients made before it none, and keeps the ones given since', async () => {
    const before = database.handle.db as unknown as Kysely<Before>;
    await before
      .insertInto('oidc_clients')
      .values({
        id: 'older-client',
        name: 'Older',
        secret_hash: null,
        redirect_uris: '["https://older.example/cb"]',
        grant_types: '["authorization_code"]',
        scope: 'openid',
        skip_consent: 0,
        created_at: T0,
        updated_at: T0,
      })
      .execute();
    expect((await migrateToLatest(database.handle)).applied).toContain('0015-oidc-post-logout');

    const repository = createClientsRepository(database.handle.db);
    const older = await repository.find('older-client');
    expect(older && presentClient(older)).toMatchObject({
      redirect_uris: ['https://older.example/cb'],
      post_logout_redirect_uris: [],
    });
    await repository.insert({
      ...older!,
      id: 'newer-client',
      post_logout_redirect_uris: '["https://newer.example/signed-out"]',
    });
    const newer = await repository.find('newer-client');
    expect(newer && presentClient(newer).post_logout_redirect_uris).toEqual(['https://newer.example/signed-out']);
  });
});
