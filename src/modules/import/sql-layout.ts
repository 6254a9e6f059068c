import { AppError } from '../../lib/errors.js';

// Recognising which of the original apps a database belongs to, from its tables and columns alone.

export interface Table {
  /** The name as the database spells it. */
  name: string;
  /** Lower-cased column name → the name as the database spells it. */
  columns: Map<string, string>;
}

export interface UserColumns {
  id: string;
  username: string;
  password: string;
  email?: string | undefined;
  secret?: string | undefined;
  role?: string | undefined;
  mfaEnabled?: string | undefined;
  emailVerified?: string | undefined;
  createdAt?: string | undefined;
}

export interface ProductColumns {
  id: string;
  name: string;
  price: string;
  description?: string | undefined;
  quantity?: string | undefined;
}

/** One of the original apps' layouts, recognised by its tables and columns. */
export interface Layout {
  kind: 'products API' | 'role-based app' | 'email-code app';
  /** Absent only for the email-code app's own database, which holds its codes and nothing else. */
  users: { table: string; columns: UserColumns } | undefined;
  products?: { table: string; columns: ProductColumns } | undefined;
  /** The email-code app's table of pending codes (not imported). */
  pendingCodesTable?: string | undefined;
}

const SECRET_COLUMNS = ['twofa_secret', 'totp_secret', 'otp_secret', 'mfa_secret'];
const JSONL_HINT = 'export the users to JSON Lines instead (docs/migrating.md)';

function pick(table: Table, ...candidates: string[]): string | undefined {
  for (const candidate of candidates) {
    const name = table.columns.get(candidate);
    if (name !== undefined) return name;
  }
  return undefined;
}

function describeTables(tables: Map<string, Table>): string {
  if (tables.size === 0) return 'no tables';
  return [...tables.values()].map((t) => `${t.name}(${[...t.columns.values()].join(', ')})`).join('; ');
}

/**
 * Recognises the original apps by their tables and columns: the products API (`user`
 * with `twofa_secret`, `product`), the role-based app (`user` with `role` and `mfa_enabled`) and
 * the email-code app (`two_factor_auth`, beside a user table of the app it guarded, or alone, as
 * that app shipped). Anything else is refused, naming what was found.
 */
export function detectLayout(tables: Map<string, Table>): Layout {
  const userTable = tables.get('user') ?? tables.get('users');
  const productTable = tables.get('product') ?? tables.get('products');
  const pendingCodes = tables.get('two_factor_auth');
  const refuse = (why: string): never => {
    throw new AppError('validation_failed', {
      message: `Unrecognised source layout: ${why}. Tables found: ${describeTables(tables)}. Twofold reads the original products API, role-based and email-code apps; for anything else, ${JSONL_HINT}.`,
    });
  };
  // The email-code app's own database: its table of codes, keyed by address, and no accounts.
  if (!userTable && pendingCodes)
    return { kind: 'email-code app', users: undefined, products: undefined, pendingCodesTable: pendingCodes.name };
  if (!userTable) return refuse('no user table');
  const id = pick(userTable, 'id');
  const username = pick(userTable, 'username');
  const password = pick(userTable, 'password', 'password_hash');
  if (!id || !username || !password) return refuse(`table ${userTable.name} lacks id, username or password`);
  const columns: UserColumns = {
    id,
    username,
    password,
    email: pick(userTable, 'email'),
    secret: pick(userTable, ...SECRET_COLUMNS),
    role: pick(userTable, 'role'),
    mfaEnabled: pick(userTable, 'mfa_enabled', 'twofa_enabled', 'is_2fa_enabled', 'totp_enabled'),
    emailVerified: pick(userTable, 'email_verified', 'is_verified', 'verified'),
    createdAt: pick(userTable, 'created_at'),
  };
  const products = productTable && pickProductColumns(productTable);
  const users = { table: userTable.name, columns };
  if (pendingCodes) return { kind: 'email-code app', users, products, pendingCodesTable: pendingCodes.name };
  if (columns.email && columns.role && pick(userTable, 'mfa_enabled'))
    return { kind: 'role-based app', users, products };
  if (pick(userTable, 'twofa_secret')) return { kind: 'products API', users, products };
  return refuse(
    `table ${userTable.name} has neither twofa_secret (products API), role and mfa_enabled (role-based app), nor a two_factor_auth table beside it (email-code app)`,
  );
}

function pickProductColumns(table: Table): { table: string; columns: ProductColumns } | undefined {
  const id = pick(table, 'id');
  const name = pick(table, 'name');
  const price = pick(table, 'price');
  if (!id || !name || !price) return undefined;
  return {
    table: table.name,
    columns: { id, name, price, description: pick(table, 'description'), quantity: pick(table, 'quantity') },
  };
}
