/**
 * Remembers, for a few seconds, whether a session is live, so that verifying an access
 * token does not cost a database read on every request. A revocation on this instance
 * updates the cache at once; other instances see it when their entry expires (seconds).
 */
export interface SessionCache {
  get(sessionId: number, nowMs: number): boolean | undefined;
  set(sessionId: number, userId: number, active: boolean, nowMs: number): void;
  revoke(sessionId: number): void;
  revokeUser(userId: number, exceptSessionId?: number): void;
}

interface Entry {
  userId: number;
  active: boolean;
  checkedAtMs: number;
}

export function createSessionCache(options: { ttlMs: number; maxEntries: number }): SessionCache {
  const entries = new Map<number, Entry>();
  return {
    get(sessionId, nowMs) {
      const entry = entries.get(sessionId);
      if (!entry) return undefined;
      if (entry.active && nowMs - entry.checkedAtMs > options.ttlMs) return undefined;
      return entry.active;
    },
    set(sessionId, userId, active, nowMs) {
      if (entries.size >= options.maxEntries) entries.clear();
      entries.set(sessionId, { userId, active, checkedAtMs: nowMs });
    },
    revoke(sessionId) {
      const entry = entries.get(sessionId);
      if (entry) entry.active = false;
    },
    revokeUser(userId, exceptSessionId) {
      for (const [id, entry] of entries) if (entry.userId === userId && id !== exceptSessionId) entry.active = false;
    },
  };
}
