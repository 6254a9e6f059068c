import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/lib/clock.js';
import { createAuditRepository } from '../../src/modules/audit/audit.repository.js';
import {
  DETAIL_KEY_MAX_CHARS,
  DETAIL_MAX_KEYS,
  DETAIL_VALUE_MAX_CHARS,
  createAuditService,
} from '../../src/modules/audit/audit.service.js';
import { testDialects, type TestDatabase } from '../support/databases.js';
import { createMigratedDatabase } from './migrated-database.js';

const dialects = await testDialects();

describe.each(dialects)('audit detail bounds on %s', (dialect) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createMigratedDatabase(dialect);
  });
  afterAll(async () => database?.drop());

  const storedDetails = async (productId: number) => {
    const rows = await database.handle.db
      .selectFrom('audit_events')
      .select('detail')
      .where('type', '=', 'product.created')
      .execute();
    return rows.map((row) => row.detail).filter((text) => text.includes(`"product_id":${productId}`));
  };

  it('a huge junk key and a huge value never erase the product id, and the stored detail stays whole JSON within the column', async () => {
    const audit = createAuditService({
      repository: createAuditRepository(database.handle.db),
      clock: systemClock,
      log: undefined,
    });
    const junkKey = `junk_${'x'.repeat(2000)}`;
    await audit.record({
      type: 'product.created',
      userId: null,
      detail: { product_id: 4242, fields: `name,${junkKey}`, [junkKey]: 'y'.repeat(5000) },
    });

    const [stored] = await storedDetails(4242);
    expect(stored).toBeDefined();
    expect(stored!.length).toBeLessThanOrEqual(2000);
    const detail = JSON.parse(stored!) as Record<string, unknown>;
    expect(detail.product_id).toBe(4242);
    for (const [key, value] of Object.entries(detail)) {
      expect([...key].length).toBeLessThanOrEqual(DETAIL_KEY_MAX_CHARS);
      if (typeof value === 'string') expect([...value].length).toBeLessThanOrEqual(DETAIL_VALUE_MAX_CHARS);
    }
    const [listed] = (await audit.list({ type: 'product.created', limit: 100 })).filter(
      (row) => row.detail.product_id === 4242,
    );
    expect(listed?.detail.product_id).toBe(4242);
  });

  it('a huge key written first, many keys and characters JSON escapes six-fold still leave the product id readable', async () => {
    const audit = createAuditService({
      repository: createAuditRepository(database.handle.db),
      clock: systemClock,
      log: undefined,
    });
    const detail: Record<string, string | number> = {
      ['\u0001'.repeat(3000)]: '\u0002'.repeat(3000),
      product_id: 4343,
    };
    for (let i = 0; i < 100; i++) detail[`k${i}_${'\u0003'.repeat(100)}`] = '\u0004'.repeat(500);
    await audit.record({ type: 'product.created', userId: null, detail });

    const [stored] = await storedDetails(4343);
    expect(stored).toBeDefined();
    expect(stored!.length).toBeLessThanOrEqual(2000);
    const parsed = JSON.parse(stored!) as Record<string, unknown>;
    expect(parsed.product_id).toBe(4343);
    expect(Object.keys(parsed).length).toBeLessThanOrEqual(DETAIL_MAX_KEYS + 1);
    expect(parsed.omitted_keys).toBeGreaterThan(0);
  });
});
