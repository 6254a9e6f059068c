import type { Clock } from '../../lib/clock.js';
import { AppError, validationError } from '../../lib/errors.js';
import type { UserRow } from '../accounts/accounts.repository.js';
import type { AccountsService, User } from '../accounts/accounts.service.js';
import type { AuditContext, AuditService, AuditView } from '../audit/audit.service.js';
import type { PasskeysService } from '../passkeys/passkeys.service.js';
import type { SessionsService } from '../sessions/sessions.service.js';
import type { AdminRepository } from './admin.repository.js';
import type { ListAuditQuery, ListUsersQuery, UpdateUserBody } from './admin.schemas.js';

/** The HTTP contract "Administration": `user` plus lock and last sign-in. */
export interface AdminUser extends User {
  locked_until: string | null;
  last_login_at: string | null;
  /** How many passkeys the user has. */
  passkeys: number;
}

export interface AuditPage {
  items: AuditView[];
  /** The `before` of the next, older page; null on the last page. */
  next_before: number | null;
}

/**
 * Who acts, for the rules about oneself and for the audit trail: an administrator signed in over
 * HTTP, or the operator of the command line, who holds the server's configuration and database
 * and has no account here.
 */
export type AdminActor = (AuditContext & { kind: 'admin'; userId: number }) | { kind: 'cli' };

/** The operator of the command line (`twofold user …`). */
export const CLI_ACTOR: AdminActor = Object.freeze({ kind: 'cli' });

/** The audit events' `by` (the administrator's id, or "cli") and the request they came with. */
function auditedAs(actor: AdminActor): AuditContext & { by: number | 'cli' } {
  return actor.kind === 'cli'
    ? { by: 'cli', ip: null, userAgent: 'twofold-cli' }
    : { by: actor.userId, ip: actor.ip, userAgent: actor.userAgent };
}

export interface AdminService {
  listUsers(query: ListUsersQuery): Promise<{ items: AdminUser[]; total: number }>;
  updateUser(id: number, changes: UpdateUserBody, actor: AdminActor): Promise<AdminUser>;
  /** A lost device: every second factor goes, and every session with it. */
  resetTwoFactor(id: number, actor: AdminActor): Promise<User>;
  /** Ends every session of the user on every instance (logout-all's path), recorded as `sessions.revoked`. */
  revokeSessions(id: number, actor: AdminActor): Promise<void>;
  /**
   * Deletes another person's account (the privacy module's deletion: the same effects as deleting
   * one's own). An administrator's own account is deleted by themself, with DELETE /api/user/me.
   */
  deleteUser(id: number, actor: AdminActor): Promise<void>;
  listAudit(query: ListAuditQuery): Promise<AuditPage>;
}

export interface AdminDeps {
  repository: AdminRepository;
  accounts: AccountsService;
  sessions: SessionsService;
  audit: AuditService;
  clock: Clock;
  /**
   * The privacy module's account deletion (wired in src/services.ts: privacy sits on the
   * administration's layer, docs/architecture.md "Module dependencies").
   */
  deleteAccount(userId: number, actor: AdminActor): Promise<void>;
  /** The users' passkeys, counted for the list (a reset removes them through the repository). */
  passkeys: Pick<PasskeysService, 'countByUsers'>;
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/**
 * An administrator changing their own account must not be able to lock every admin out. The
 * command line is exempt: its operator has no account to lose and is the way back in when no
 * administrator is left (`twofold user set-role NAME admin`, `twofold user unlock NAME`).
 */
function refuseSelfLockout(target: UserRow, changes: UpdateUserBody, actor: AdminActor): void {
  if (actor.kind !== 'admin' || target.id !== actor.userId) return;
  if (changes.role !== undefined && changes.role !== 'admin')
    throw validationError({ role: 'you cannot remove your own admin role; ask another administrator' });
  if (changes.locked === true) throw validationError({ locked: 'you cannot lock your own account' });
}

export function createAdminService(deps: AdminDeps): AdminService {
  const { repository, accounts, sessions, audit, clock } = deps;

  /** The contract's `user` (accounts' presentUser) with the lock and last sign-in an administrator sees. */
  async function presentAdminUser(row: UserRow, passkeyCounts?: Map<number, number>): Promise<AdminUser> {
    const lockedUntil = row.locked_until !== null && row.locked_until > clock.now().getTime() ? row.locked_until : null;
    const counts = passkeyCounts ?? (await deps.passkeys.countByUsers([row.id]));
    return {
      ...(await accounts.presentUser(row)),
      locked_until: isoOrNull(lockedUntil),
      last_login_at: isoOrNull(row.last_login_at),
      passkeys: counts.get(row.id) ?? 0,
    };
  }

  async function requireUser(id: number): Promise<UserRow> {
    const row = await accounts.findById(id);
    if (!row) throw new AppError('not_found', { message: 'No such user.' });
    return row;
  }

  async function setLocked(target: UserRow, locked: boolean, actor: AdminActor): Promise<void> {
    const { by, ...context } = auditedAs(actor);
    const nowMs = clock.now().getTime();
    if (locked) {
      await repository.lock(target.id, nowMs);
      // A locked account keeps no live session: its access tokens stop working at once.
      await sessions.logoutAll(target.id);
      await audit.record({ ...context, type: 'account.locked', userId: target.id, detail: { by } });
    } else {
      await repository.unlock(target.id, nowMs);
      await audit.record({ ...context, type: 'account.unlocked', userId: target.id, detail: { by } });
    }
  }

  return {
    async listUsers(query) {
      const { rows, total } = await repository.listUsers(query);
      // One grouped count for the page, not one query per user.
      const counts = await deps.passkeys.countByUsers(rows.map((r) => r.id));
      return { items: await Promise.all(rows.map((row) => presentAdminUser(row, counts))), total };
    },

    async updateUser(id, changes, actor) {
      if (changes.role === undefined && changes.locked === undefined)
        throw validationError({ body: 'send role, locked or both' });
      const target = await requireUser(id);
      refuseSelfLockout(target, changes, actor);
      if (changes.role !== undefined && changes.role !== target.role) {
        await accounts.setRole(target.id, changes.role);
        // Every instance reads the new role on the user's next request (not at token expiry).
        sessions.userChanged(target.id);
        const { by, ...context } = auditedAs(actor);
        await audit.record({
          ...context,
          type: 'role.changed',
          userId: target.id,
          detail: { from: target.role, to: changes.role, by },
        });
      }
      if (changes.locked !== undefined) await setLocked(target, changes.locked, actor);
      return presentAdminUser(await requireUser(id));
    },

    async resetTwoFactor(id, actor) {
      const target = await requireUser(id);
      // A passkey is a second factor too (it would otherwise still be asked for after the reset): it
      // goes with the others in one transaction, all or none.
      const { passkeysRemoved } = await repository.resetSecondFactors(target.id);
      await sessions.logoutAll(target.id);
      const { by, ...context } = auditedAs(actor);
      await audit.record({
        ...context,
        type: 'mfa.reset',
        userId: target.id,
        // Named only when there were some: a reset without passkeys reads as before.
        detail: { by, ...(passkeysRemoved > 0 ? { passkeys_removed: passkeysRemoved } : {}) },
      });
      return accounts.getUser(target.id);
    },

    async revokeSessions(id, actor) {
      const target = await requireUser(id);
      await sessions.logoutAll(target.id);
      const { by, ...context } = auditedAs(actor);
      await audit.record({ ...context, type: 'sessions.revoked', userId: target.id, detail: { by } });
    },

    async deleteUser(id, actor) {
      // The confirmation and the recent sign-in of one's own deletion are not skipped by this door.
      if (actor.kind === 'admin' && actor.userId === id)
        throw validationError({ id: 'is your own account; delete it from your Security page (DELETE /api/user/me)' });
      await deps.deleteAccount(id, actor);
    },

    async listAudit({ user_id, type, limit, before }) {
      // One row more than asked tells whether an older page exists.
      const rows = await audit.list({ userId: user_id, type, beforeId: before, limit: limit + 1 });
      const items = rows.slice(0, limit);
      const last = items.at(-1);
      return { items, next_before: rows.length > limit && last ? last.id : null };
    },
  };
}
