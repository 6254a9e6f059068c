import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';

/**
 * Ends the provider's own browser sessions of an account (its `_session` cookie then names nothing):
 * a person who signs out of Twofold is asked again by the next authorization, in every browser, as
 * OpenID Connect Session Management expects of an OP whose session ends (RP-Initiated Logout 1.0 §2).
 * The grants and tokens the applications already hold are theirs to end (revocation, their own
 * logout); a browser still signed in to Twofold passes the next sign-in step without a password.
 */
export async function endProviderSessions(db: Kysely<Database>, userId: number): Promise<void> {
  await db
    .deleteFrom('oidc_payloads')
    .where('model', '=', 'Session')
    .where('account_id', '=', String(userId))
    .execute();
}
