import type { AdminUser, Role } from '../api/types';

/**
 * What an administrator is about to do to someone else's account, asked before it happens (the
 * Administration page's second click that names the person: OWASP, confirm destructive and
 * privilege-changing actions).
 */
export interface Pending {
  userId: number;
  kind: 'role' | 'lock' | 'reset' | 'logout' | 'delete';
  role?: Role;
}

/** The question of a row, naming the person and what happens. */
export function question(user: Pick<AdminUser, 'username' | 'passkeys'>, ask: Pending): string {
  switch (ask.kind) {
    case 'lock':
      return `Lock ${user.username}? They are signed out everywhere and cannot sign in until unlocked.`;
    case 'reset':
      // The reset removes the passkeys too (docs/api.md, POST /api/admin/users/{id}/2fa/reset).
      return `Reset two-factor for ${user.username}? Their authenticator apps, email codes, backup codes and ${passkeysOf(user.passkeys)} are removed and they are signed out everywhere.`;
    case 'logout':
      return `Sign ${user.username} out everywhere? Every session on every device ends; they can sign in again.`;
    case 'delete':
      return `Delete ${user.username}'s account? This cannot be undone: the account and its sessions, factors and codes are deleted; the security log keeps its entries without their personal data.`;
    case 'role':
      return ask.role === 'admin'
        ? `Make ${user.username} an administrator? They can then lock accounts, change roles and read the audit log.`
        : `Make ${user.username} a regular user? They lose access to administration.`;
  }
}

/** "passkeys", or how many when there are some: what a reset takes away. */
function passkeysOf(count: number): string {
  if (count === 0) return 'passkeys';
  return count === 1 ? '1 passkey' : `${count} passkeys`;
}

/** The label of the button that answers yes. */
export function confirmLabel(kind: Pending['kind']): string {
  return {
    role: 'Yes, change the role',
    lock: 'Yes, lock',
    reset: 'Yes, reset',
    logout: 'Yes, sign out everywhere',
    delete: 'Yes, delete',
  }[kind];
}

/** The id of the control that asked, where the focus goes back on Cancel. */
export function askedFrom(kind: Pending['kind'], userId: number): string {
  return kind === 'role' ? `role-${userId}` : `admin-${kind}-${userId}`;
}
