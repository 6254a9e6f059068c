import { seal } from '../../lib/crypto.js';
import { recordInTransaction, type AuditEvent } from '../audit/audit.service.js';
import { totpSecretAad } from '../two-factor/two-factor.service.js';
import { importedUsers, type Executor } from '../accounts/imported-users.repository.js';
import { importedProducts } from '../products/imported-products.repository.js';
import { importedFactors } from '../two-factor/imported-factors.repository.js';
import type { ProductAction, UserAction } from './import.plan.js';
import type { PreparedUser } from './import.records.js';

/**
 * Writes one planned batch on the executor it is given (the batch's transaction, or the run's
 * with `--strict`): a few bulk statements per batch, whatever its size.
 */

export interface ApplyContext {
  encryptionKey: Buffer;
  /** The time of this batch: created, updated and imported_at, the factors' and the audit events' times. */
  nowMs: number;
  /** The source's kind, recorded in each audit event. */
  sourceKind: string;
}

type Insert = Extract<UserAction, { kind: 'insert' }>;
type Update = Extract<UserAction, { kind: 'update' }>;

export async function applyUsers(db: Executor, actions: readonly UserAction[], context: ApplyContext): Promise<void> {
  const now = context.nowMs;
  const inserts = actions.filter((a): a is Insert => a.kind === 'insert').map((a) => a.user);
  const updates = actions.filter((a): a is Update => a.kind === 'update');
  await importedUsers.insertImportedUsers(
    db,
    inserts.map((u) => ({
      username: u.username,
      username_normalized: u.normalized,
      email: u.email,
      email_normalized: u.emailNormalized,
      email_verified: u.emailVerified ? 1 : 0,
      password_hash: u.passwordHash,
      role: u.role,
      created_at: u.createdAtMs ?? now,
      updated_at: now,
      imported_at: now,
    })),
  );
  const idOf = new Map(
    (
      await importedUsers.findByUsernames(
        db,
        inserts.map((u) => u.normalized),
      )
    ).map((row) => [row.username_normalized, row.id]),
  );
  const created = inserts.map((user) => ({ user, id: idOf.get(user.normalized) as number }));
  for (const { userId, changes } of updates)
    if (changes) await importedUsers.updateImportedUser(db, userId, { ...changes, updated_at: now, imported_at: now });

  const factors = [
    ...created.filter(({ user }) => user.totpSecret !== null),
    ...updates.filter((u) => u.totp).map((u) => ({ user: u.user, id: u.userId })),
  ];
  // Sealed to its user id (the AAD), as two-factor enrolment seals it: a secret copied to another row does not open.
  await importedFactors.replaceTotp(
    db,
    factors.map(({ user, id }) => ({
      userId: id,
      secretSealed: seal(context.encryptionKey, user.totpSecret as string, totpSecretAad(id)),
    })),
    now,
  );
  await importedFactors.enableEmailFactor(
    db,
    [
      ...created.filter(({ user }) => user.emailFactor).map(({ id }) => id),
      ...updates.filter((u) => u.emailFactor).map((u) => u.userId),
    ],
    now,
  );

  const event = (userId: number, user: PreparedUser, action: 'created' | 'updated'): AuditEvent => ({
    type: 'user.imported',
    userId,
    ip: null,
    userAgent: 'twofold-cli',
    detail: { source: context.sourceKind, action, totp: user.totpSecret !== null, email_codes: user.emailFactor },
  });
  await recordInTransaction(
    db,
    [
      ...created.map(({ user, id }) => event(id, user, 'created')),
      ...updates.map(({ user, userId }) => event(userId, user, 'updated')),
    ],
    now,
  );
}

export async function applyProducts(db: Executor, actions: readonly ProductAction[], nowMs: number): Promise<void> {
  for (const action of actions) {
    if (action.kind !== 'update') continue;
    const { product } = action;
    await importedProducts.updateProduct(
      db,
      action.productId,
      {
        name: product.name,
        description: product.description,
        price_cents: product.priceCents,
        quantity: product.quantity,
      },
      nowMs,
    );
  }
  await importedProducts.insertProducts(
    db,
    actions.flatMap((a) =>
      a.kind === 'insert'
        ? [
            {
              name: a.product.name,
              description: a.product.description,
              price_cents: a.product.priceCents,
              quantity: a.product.quantity,
              created_by: null,
              created_at: nowMs,
              updated_at: nowMs,
              legacy_id: a.product.legacyId,
            },
          ]
        : [],
    ),
  );
}
