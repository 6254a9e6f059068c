import { unseal } from '../../lib/crypto.js';
import { totpSecretAad } from '../two-factor/two-factor.service.js';
import { importedUsers, type Executor } from '../accounts/imported-users.repository.js';
import { importedProducts, type ExistingProduct } from '../products/imported-products.repository.js';
import { importedFactors } from '../two-factor/imported-factors.repository.js';
import {
  enrolledInTwofold,
  type ConflictPolicy,
  type ExistingTotp,
  type ScreenedProducts,
  type ScreenedUsers,
  type UserState,
} from './import.plan.js';

/**
 * The Twofold state a batch's plan is decided against: a few bulk reads per batch, on the batch's
 * transaction so the plan and the writes see the same rows.
 */
export async function loadUserState(
  db: Executor,
  encryptionKey: Buffer,
  screened: ScreenedUsers,
  onConflict: ConflictPolicy,
): Promise<UserState> {
  const { accepted } = screened;
  const accounts = new Map(
    (
      await importedUsers.findByUsernames(
        db,
        accepted.map((u) => u.normalized),
      )
    ).map((row) => [row.username_normalized, row]),
  );
  const emailOwners = new Map(
    (
      await importedUsers.findIdsByEmails(
        db,
        accepted.flatMap((u) => (u.emailNormalized === null ? [] : [u.emailNormalized])),
      )
    ).map((row) => [row.email_normalized as string, row.id]),
  );
  const ids = [...accounts.values()].map((row) => row.id);
  const factors = new Map(
    (await importedFactors.totpSecrets(db, ids))
      .filter((row) => row.confirmed_at !== null)
      .map((row) => [row.user_id, row]),
  );
  const totp = new Map<number, ExistingTotp>();
  for (const user of accepted) {
    const row = accounts.get(user.normalized);
    const factor = row && factors.get(row.id);
    if (!row || !factor) continue;
    const current: ExistingTotp = { createdAt: factor.created_at, secret: null };
    // Unsealed only where the plan compares it with the source's secret (only an update does), as
    // few as the decision needs: a repeated import of a million users decrypts nothing it skips.
    if (onConflict === 'update' && user.totpSecret !== null && !enrolledInTwofold(row, current))
      current.secret = unseal(encryptionKey, factor.secret_sealed, totpSecretAad(row.id));
    totp.set(row.id, current);
  }
  return { accounts, emailOwners, totp, emailFactor: new Set(await importedFactors.emailFactorUsers(db, ids)) };
}

/** Twofold's products by legacy_id. */
export async function loadProductState(
  db: Executor,
  screened: ScreenedProducts,
): Promise<Map<string, ExistingProduct>> {
  return new Map(
    (await importedProducts.productsByLegacyId(db, [...screened.accepted.keys()])).map((row) => [
      row.legacy_id as string,
      row,
    ]),
  );
}
