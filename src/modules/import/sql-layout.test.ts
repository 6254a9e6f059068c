import { describe, expect, it } from 'vitest';
import { detectLayout } from './sql-layout.js';
import { legacyUrl } from './sql-source.js';

describe("reading an original app's database", () => {
  it('recognises the three original layouts (the email-code app with or without a user table) and refuses others with the tables it found', () => {
    const tables = (spec: Record<string, string[]>): Parameters<typeof detectLayout>[0] =>
      new Map(
        Object.entries(spec).map(([name, columns]) => [
          name.toLowerCase(),
          { name, columns: new Map(columns.map((c) => [c.toLowerCase(), c])) },
        ]),
      );
    expect(
      detectLayout(
        tables({
          user: ['id', 'username', 'password', 'twofa_secret'],
          product: ['id', 'name', 'description', 'price', 'quantity'],
        }),
      ),
    ).toMatchObject({
      kind: 'products API',
      products: { table: 'product' },
    });
    expect(
      detectLayout(
        tables({ users: ['id', 'username', 'email', 'password_hash', 'role', 'mfa_enabled', 'totp_secret'] }),
      ),
    ).toMatchObject({
      kind: 'role-based app',
      users: { columns: { secret: 'totp_secret', mfaEnabled: 'mfa_enabled' } },
    });
    expect(
      detectLayout(
        tables({ User: ['ID', 'Username', 'Email', 'Password'], two_factor_auth: ['id', 'user_id', 'code'] }),
      ),
    ).toMatchObject({
      kind: 'email-code app',
      users: { table: 'User', columns: { username: 'Username' } },
      pendingCodesTable: 'two_factor_auth',
    });
    // The email-code app as it shipped: its table of codes by address, and nothing else.
    expect(
      detectLayout(tables({ two_factor_auth: ['id', 'email', 'code', 'expiration_time', 'used', 'created_at'] })),
    ).toEqual({
      kind: 'email-code app',
      users: undefined,
      products: undefined,
      pendingCodesTable: 'two_factor_auth',
    });
    expect(() => detectLayout(tables({ customers: ['id', 'name'] }))).toThrow(
      /Unrecognised source layout: no user table\. Tables found: customers\(id, name\)\..*JSON Lines/,
    );
    expect(() => detectLayout(tables({ user: ['id', 'username', 'password'] }))).toThrow(/neither twofa_secret/);
  });

  it('takes sqlite:PATH and SQLAlchemy-style URLs', () => {
    expect(legacyUrl('sqlite:app.db')).toEqual({ dialect: 'sqlite', target: 'app.db' });
    expect(legacyUrl('sqlite:///instance/app.db')).toEqual({ dialect: 'sqlite', target: 'instance/app.db' });
    expect(legacyUrl('sqlite:////var/app.db')).toEqual({ dialect: 'sqlite', target: '/var/app.db' });
    expect(legacyUrl('mysql+pymysql://root:pw@127.0.0.1/api')).toEqual({
      dialect: 'mysql',
      target: 'mysql://root:pw@127.0.0.1/api',
    });
    expect(legacyUrl('postgresql+psycopg2://u@h/db')).toEqual({ dialect: 'postgres', target: 'postgres://u@h/db' });
    expect(legacyUrl('mongodb://x')).toBeNull();
  });
});
