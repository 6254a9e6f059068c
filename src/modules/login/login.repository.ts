import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { accountLookupByLogin, type UserRow } from '../accounts/accounts.repository.js';
import { factorsOn, selectFactorFlags } from '../two-factor/factor-flags.js';
import type { FactorMethod } from '../two-factor/require-2fa.js';
import { methodsOfFactors } from '../two-factor/two-factor.service.js';

/** The account a sign-in names, and the second factors it has turned on. */
export interface SignInAccount {
  account: UserRow;
  methods: FactorMethod[];
}

export interface LoginRepository {
  /**
   * The account a login identifier names (accounts' lookup by name or address) with its second
   * factors, in one query: the users row is accounts' SQL, the factors' EXISTS two-factor's.
   */
  findSignIn(identifier: string): Promise<SignInAccount | undefined>;
}

export function createLoginRepository(db: Kysely<Database>): LoginRepository {
  const lookup = accountLookupByLogin((query) => selectFactorFlags(query, 'users.id'));
  return {
    async findSignIn(identifier) {
      const row = await lookup(db, identifier);
      if (!row) return undefined;
      const { totp, email_factor, passkey, ...account } = row;
      return { account, methods: methodsOfFactors(factorsOn({ totp, email_factor, passkey })) };
    },
  };
}
