/**
 * Remembers, for a few seconds, whether a session is live and its user's current role, so that
 * verifying an access token does not cost a database read on every request. A revocation or a
 * role change on this instance updates the cache at once; other instances see it through the
 * revocation bus (Redis) or when their entry expires (seconds).
 *
 * An entry records the user the database says owns the session, and a lookup names both the
 * session and the user of the token: a token whose `sid` names another user's session never
 * rides on that session's cached "active" (OWASP ASVS V3.2: a session is bound to its user).
 */
export interface SessionState {
  active: boolean;
  /** The user's role as stored now (not as when the token was signed); '' when not active. */
  role: string;
}

export interface SessionCache {
  get(sessionId: number, userId: number, nowMs: number): SessionState | undefined;
  /** `ownerUserId`: the session's user according to the database. */
  set(sessionId: number, ownerUserId: number, state: SessionState, nowMs: number): void;
  revoke(sessionId: number): void;
  revokeUser(userId: number, exceptSessionId?: number): void;
  /** The user changed (role): their sessions stay live, but the next check reads them again. */
  forgetUser(userId: number): void;
}

interface Entry {
  userId: number;
  active: boolean;
  role: string;
  checkedAtMs: number;
}

const INACTIVE: SessionState = Object.freeze({ active: false, role: '' });

export function createSessionCache(options: { ttlMs: number; maxEntries: number }): SessionCache {
  const entries = new Map<number, Entry>();
  return {
    get(sessionId, userId, nowMs) {
      const entry = entries.get(sessionId);
      if (!entry) return undefined;
      // A session's owner never changes: another user's token naming it is refused.
      if (entry.userId !== userId) return INACTIVE;
      if (!entry.active) return INACTIVE;
      if (nowMs - entry.checkedAtMs > options.ttlMs) return undefined;
      return { active: true, role: entry.role };
    },
    set(sessionId, ownerUserId, state, nowMs) {
      if (entries.size >= options.maxEntries) entries.clear();
      entries.set(sessionId, { userId: ownerUserId, active: state.active, role: state.role, checkedAtMs: nowMs });
    },
    revoke(sessionId) {
      const entry = entries.get(sessionId);
      if (entry) entry.active = false;
    },
    revokeUser(userId, exceptSessionId) {
      for (const [id, entry] of entries) if (entry.userId === userId && id !== exceptSessionId) entry.active = false;
    },
    forgetUser(userId) {
      for (const [id, entry] of entries) if (entry.userId === userId && entry.active) entries.delete(id);
    },
  };
}
