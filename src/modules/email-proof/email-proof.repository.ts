import type { Kysely } from 'kysely';
import type { Dialect } from '../../db/create-database.js';
import type { Database } from '../../db/schema.js';

/** Wrong tries a stand-alone email code survives; the fifth try is its last. */
export const MAX_PROOF_ATTEMPTS = 5;
// Expired codes are deleted at most once a minute, by whichever request issues a code next.
const SWEEP_INTERVAL_MS = 60_000;

export interface NewEmailProof {
  addressKey: string;
  codeHash: string;
  nowMs: number;
  expiresAtMs: number;
}

export interface EmailProofRepository {
  /** Stores the address's code in place of any pending one (fresh expiry, no attempts spent), in one statement. */
  replace(proof: NewEmailProof): Promise<void>;
  /** The hash of the address's pending code, if there is one (it may be expired or out of tries). */
  findCodeHash(addressKey: string): Promise<string | undefined>;
  /** Guarded: counts one try of this very code, only while it is unexpired and has tries left. */
  reserveAttempt(addressKey: string, codeHash: string, nowMs: number): Promise<boolean>;
  /** Guarded single use: deletes this very code; true only for the one caller whose DELETE removed it. */
  consume(addressKey: string, codeHash: string, nowMs: number): Promise<boolean>;
}

export function createEmailProofRepository(db: Kysely<Database>, dialect: Dialect): EmailProofRepository {
  let lastSweepMs = Number.NEGATIVE_INFINITY;

  async function sweep(nowMs: number): Promise<void> {
    if (nowMs - lastSweepMs < SWEEP_INTERVAL_MS) return;
    lastSweepMs = nowMs;
    await db.deleteFrom('email_proofs').where('expires_at', '<=', nowMs).execute();
  }

  return {
    async replace({ addressKey, codeHash, nowMs, expiresAtMs }) {
      await sweep(nowMs);
      const row = {
        address_key: addressKey,
        code_hash: codeHash,
        attempts: 0,
        created_at: nowMs,
        expires_at: expiresAtMs,
      };
      const fresh = { code_hash: codeHash, attempts: 0, created_at: nowMs, expires_at: expiresAtMs };
      // An upsert on the primary key: two codes asked for at once leave exactly one, never both and never an error.
      const insert = db.insertInto('email_proofs').values(row);
      if (dialect === 'mysql') await insert.onDuplicateKeyUpdate(fresh).execute();
      else await insert.onConflict((oc) => oc.column('address_key').doUpdateSet(fresh)).execute();
    },
    async findCodeHash(addressKey) {
      return (
        await db.selectFrom('email_proofs').select('code_hash').where('address_key', '=', addressKey).executeTakeFirst()
      )?.code_hash;
    },
    async reserveAttempt(addressKey, codeHash, nowMs) {
      const result = await db
        .updateTable('email_proofs')
        .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
        .where('address_key', '=', addressKey)
        .where('code_hash', '=', codeHash)
        .where('expires_at', '>', nowMs)
        .where('attempts', '<', MAX_PROOF_ATTEMPTS)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async consume(addressKey, codeHash, nowMs) {
      const result = await db
        .deleteFrom('email_proofs')
        .where('address_key', '=', addressKey)
        .where('code_hash', '=', codeHash)
        .where('expires_at', '>', nowMs)
        .executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
  };
}
