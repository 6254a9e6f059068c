import type { AuditEvent } from '../api/types';

export type AuditType = AuditEvent['type'];

/**
 * A label for each kind of audit event the server's schema names. A `Record` over the schema's
 * union: a kind added on the server and missing here (or one removed there) fails the typecheck.
 */
export const AUDIT_TYPE_LABELS: Record<AuditType, string> = {
  'user.registered': 'Account registered',
  'user.imported': 'Account imported',
  'login.succeeded': 'Signed in',
  'login.failed': 'Sign-in failed',
  'mfa.challenged': 'Second step asked for',
  'mfa.setup_required': 'Second factor set-up required',
  'mfa.used': 'Second step passed',
  'mfa.failed': 'Second step failed',
  'mfa.backup_code_used': 'Backup code used',
  'mfa.totp_enabled': 'Authenticator app turned on',
  'mfa.totp_added': 'Another authenticator app added',
  'mfa.totp_renamed': 'Authenticator app renamed',
  'mfa.totp_removed': 'Authenticator app removed',
  'mfa.totp_unreadable': 'Authenticator app refused: its stored secret does not open (tampered, or another key)',
  'mfa.email_enabled': 'Email codes turned on',
  'mfa.disabled': 'Two-factor turned off',
  'mfa.backup_codes_regenerated': 'New backup codes',
  'mfa.reset': 'Two-factor reset by an administrator',
  'passkey.registered': 'Passkey added',
  'passkey.renamed': 'Passkey renamed',
  'passkey.removed': 'Passkey removed',
  'passkey.counter_anomaly': 'Passkey refused: signature counter went backwards (possible clone)',
  'refresh_token.reused': 'Spent refresh token reused (session ended)',
  'reauth.succeeded': 'Identity confirmed',
  'reauth.failed': 'Identity confirmation failed',
  'password.changed': 'Password changed',
  'password.reset': 'Password reset by email',
  'email.verified': 'Email address verified',
  'email.change_requested': 'Email address change asked for',
  'email.changed': 'Email address changed',
  'email_proof.issued': 'Email code sent',
  'email_proof.not_sent': 'Email code not sent',
  'email_proof.verified': 'Email code confirmed',
  'email_proof.failed': 'Email code wrong',
  'role.changed': 'Role changed',
  'account.locked': 'Account locked',
  'account.unlocked': 'Account unlocked',
  'device.locked': 'Device locked out',
  'product.created': 'Product added',
  'product.updated': 'Product changed',
  'product.deleted': 'Product deleted',
  'sessions.revoked': 'Signed out everywhere by an administrator',
  'account.deleted': 'Account deleted',
  'oidc_client.created': 'OpenID Connect client added',
  'oidc_client.deleted': 'OpenID Connect client deleted',
  'oidc_client.secret_rotated': 'OpenID Connect client secret replaced',
  'oidc.token_issued': 'Token issued to an application',
  'oidc.grant_revoked': "An application's access revoked",
  'oidc.logout': 'Signed out of an application',
  'oidc.consent': 'Allowed an application access',
};

/** The kinds, in the order of the list above, for a filter. */
export const AUDIT_TYPES = Object.keys(AUDIT_TYPE_LABELS) as AuditType[];
