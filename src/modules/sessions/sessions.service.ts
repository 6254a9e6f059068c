import type { ClientInfo } from '../../http/client-info.js';
import type { Clock } from '../../lib/clock.js';
import { hmacHex, randomToken, sha256Hex } from '../../lib/crypto.js';
import { AppError } from '../../lib/errors.js';
import { unknownIfAccountGone } from '../accounts/account-gone.js';
import { presentUser, type User } from '../accounts/accounts.service.js';
import type { TokenService } from '../tokens/tokens.service.js';
import { methodsOfFactors } from '../two-factor/two-factor.service.js';
import type { SessionCache, SessionState } from './session-cache.js';
import type { SessionRow, SessionsRepository } from './sessions.repository.js';

/** The HTTP contract `tokens`. */
export interface Tokens {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  user: User;
}

export interface SessionView {
  id: number;
  created_at: string;
  last_used_at: string;
  user_agent: string | null;
  ip: string | null;
  current: boolean;
}

export interface SessionsService {
  /**
   * A sign-in's new session, written with the account's login time (with `clearFailures` its
   * untrusted clients' failure count forgotten); `invalid_credentials` when the account was deleted
   * meanwhile (account-gone.ts).
   */
  open(user: User, amr: string[], client: ClientInfo, options: { clearFailures: boolean }): Promise<Tokens>;
  /**
   * Refresh token rotation (RFC 9700 §4.14.2): spends the token once, issues its successor, and
   * treats a spent token presented again as theft, ending the session (outside the reuse grace).
   */
  rotateRefreshToken(refreshToken: string, client: ClientInfo): Promise<Tokens>;
  /**
   * The person proved who they are again in a live session (password, and a second factor when
   * the account has one): new tokens with a fresh `auth_time`, the refresh token rotated.
   */
  reauthenticate(user: User, sessionId: number, amr: string[], client: ClientInfo): Promise<Tokens>;
  logout(refreshToken: string): Promise<void>;
  logoutAll(userId: number): Promise<void>;
  list(userId: number, currentSessionId: number): Promise<SessionView[]>;
  end(userId: number, sessionId: number): Promise<void>;
  endOthers(userId: number, keepSessionId: number): Promise<void>;
  isActive(sessionId: number, userId: number): Promise<boolean>;
  /**
   * The session's state for the user a token names: live or not, and the user's role as stored
   * now, so a role change acts on the next request rather than at the token's expiry.
   */
  check(sessionId: number, userId: number): Promise<SessionState>;
  /** The user changed (role): every instance reads their sessions' state again. */
  userChanged(userId: number): void;
  /**
   * What the session's sign-in, or its latest re-authentication, proved (RFC 8176 `amr`); empty for another
   * user's or an unknown session. Says nothing of the session's life: `check` does.
   */
  amrOf(sessionId: number, userId: number): Promise<string[]>;
}

export interface SessionsDeps {
  repository: SessionsRepository;
  tokens: TokenService;
  cache: SessionCache;
  clock: Clock;
  refreshTokenTtlSeconds: number;
  /**
   * Seconds during which a spent refresh token presented again by the same client (same IP and
   * user agent) is a concurrent duplicate rather than a replay; 0: every replay ends the session.
   */
  refreshReuseGraceSeconds: number;
  /**
   * HMAC key for the fingerprint of the client that spent a refresh token (IP and user agent are not stored in clear).
   */
  clientKey: Uint8Array;
  /** Called when a spent refresh token comes back: a sign of theft (RFC 9700 §4.14.2). */
  onRefreshTokenReuse?(event: { userId: number; sessionId: number }): void;
  /**
   * Called once sessions of an account have ended (sign-out, sign-out everywhere, a session ended
   * from the list, a stolen refresh token): sign-ins that rest on them end too (the OpenID Connect
   * provider's browser sessions).
   */
  onSessionsEnded?(userId: number): Promise<void>;
}

/**
 * A refresh moves the session's expiry (sliding) and its "last used" time, but at most once a
 * minute: a session's end comes at most a minute early, its "last used" is to the minute, and a
 * client refreshing often does not write the session row every time (better-auth's `updateAge`).
 */
const EXTEND_EVERY_MS = 60_000;

export function createSessionsService(deps: SessionsDeps): SessionsService {
  const { repository, tokens, cache, clock } = deps;
  const ttlMs = deps.refreshTokenTtlSeconds * 1000;
  const reuseGraceMs = deps.refreshReuseGraceSeconds * 1000;

  /** Who spent a refresh token: a keyed hash of IP address and user agent (separated so they cannot run together). */
  function fingerprint(client: ClientInfo): string {
    return hmacHex(deps.clientKey, `${client.ip ?? ''}\n${client.userAgent ?? ''}`);
  }

  /**
   * A spent refresh token came back. Two requests racing with one token from one client (two tabs,
   * a retried request) are not theft: within the grace window the duplicate just fails. From any
   * other client, or later, someone holds a copy: the session ends at once (RFC 6819 §5.2.2.3;
   * OAuth 2.0 Security BCP, RFC 9700 §4.14.2, refresh token rotation).
   */
  async function spentTokenPresented(
    record: { sessionId: number; userId: number; usedAt: number | null; usedBy: string | null },
    client: ClientInfo,
    nowMs: number,
  ): Promise<never> {
    const duplicate =
      record.usedAt !== null && nowMs - record.usedAt < reuseGraceMs && record.usedBy === fingerprint(client);
    if (!duplicate) {
      await repository.revoke(record.sessionId, nowMs);
      cache.revoke(record.sessionId);
      deps.onRefreshTokenReuse?.({ userId: record.userId, sessionId: record.sessionId });
      await deps.onSessionsEnded?.(record.userId);
    }
    throw new AppError('refresh_token_invalid');
  }

  /**
   * The next refresh token of a session: 256 bits, opaque; only its SHA-256 is stored. Written
   * inside the caller's transaction; the access token is signed after the commit (signing is
   * asynchronous and must not hold the database, which on SQLite is one connection for all).
   */
  async function storeRefreshToken(sessionId: number, repo: SessionsRepository, nowMs: number): Promise<string> {
    const refreshToken = randomToken(32);
    await repo.insertRefreshToken(sha256Hex(refreshToken), sessionId, nowMs, nowMs + ttlMs);
    return refreshToken;
  }

  async function tokensFor(
    user: User,
    sessionId: number,
    amr: string[],
    authenticatedAtMs: number,
    refreshToken: string,
  ): Promise<Tokens> {
    const access = await tokens.signAccessToken({
      userId: user.id,
      username: user.username,
      role: user.role,
      sessionId,
      amr,
      authenticatedAtMs,
    });
    return {
      access_token: access.token,
      token_type: 'Bearer',
      expires_in: access.expiresInSeconds,
      refresh_token: refreshToken,
      user,
    };
  }

  async function check(sessionId: number, userId: number): Promise<SessionState> {
    const nowMs = clock.now().getTime();
    const cached = cache.get(sessionId, userId, nowMs);
    if (cached !== undefined) return cached;
    const session = await repository.findSessionState(sessionId);
    // No row: the session, or its user, is gone (deleting a user deletes their sessions).
    if (!session) return { active: false, role: '' };
    const active = session.revoked_at === null && session.expires_at > nowMs;
    const state = { active, role: active ? session.role : '' };
    // Cached under the session's real owner; a token naming another user gets "inactive".
    cache.set(sessionId, session.user_id, state, nowMs);
    return session.user_id === userId ? state : { active: false, role: '' };
  }

  return {
    async open(user, amr, client, { clearFailures }) {
      const nowMs = clock.now().getTime();
      // The first refresh token of the session, 256 bits and opaque like every next one (storeRefreshToken).
      const refreshToken = randomToken(32);
      const sessionId = await unknownIfAccountGone(
        repository.openSession(
          {
            userId: user.id,
            amr,
            userAgent: truncate(client.userAgent, 255),
            ip: client.ip,
            nowMs,
            expiresAtMs: nowMs + ttlMs,
          },
          sha256Hex(refreshToken),
          clearFailures,
        ),
      );
      return tokensFor(user, sessionId, amr, nowMs, refreshToken);
    },

    async reauthenticate(user, sessionId, amr, client) {
      const nowMs = clock.now().getTime();
      const refreshToken = await repository.transaction(async (repo) => {
        if (!(await repo.reauthenticate(sessionId, amr, nowMs, fingerprint(client)))) return null;
        return storeRefreshToken(sessionId, repo, nowMs);
      });
      if (refreshToken === null)
        throw new AppError('unauthorized', { message: 'The session has ended; sign in again.' });
      return tokensFor(user, sessionId, amr, nowMs, refreshToken);
    },

    async rotateRefreshToken(refreshToken, client) {
      const tokenHash = sha256Hex(refreshToken);
      const nowMs = clock.now().getTime();
      const record = await repository.findRefreshToken(tokenHash);
      if (
        !record ||
        record.sessionRevokedAt !== null ||
        record.sessionExpiresAt <= nowMs ||
        record.tokenExpiresAt <= nowMs
      ) {
        throw new AppError('refresh_token_invalid');
      }
      if (record.usedAt !== null) return spentTokenPresented(record, client, nowMs);
      const { totp, emailFactor, passkey, ...row } = record.user;
      const user = presentUser(row, methodsOfFactors({ totp, email: emailFactor, passkey }));
      const amr = record.amr.split(',');
      const next = await repository.transaction(async (repo) => {
        // The guarded UPDATE picks exactly one winner among concurrent refreshes of one token.
        if (!(await repo.spendRefreshToken(tokenHash, nowMs, fingerprint(client)))) return null;
        if (nowMs - record.sessionLastUsedAt >= EXTEND_EVERY_MS)
          await repo.extendSession(record.sessionId, nowMs, nowMs + ttlMs);
        return storeRefreshToken(record.sessionId, repo, nowMs);
      });
      if (next === null) {
        // Another request spent it between our read and our update: judge this one like any replay.
        const spent = await repository.findRefreshToken(tokenHash);
        if (!spent) throw new AppError('refresh_token_invalid');
        return spentTokenPresented(spent, client, nowMs);
      }
      // A refresh is no new proof of the person: the session's auth_time is kept.
      return tokensFor(user, record.sessionId, amr, record.authenticatedAt, next);
    },

    async logout(refreshToken) {
      const record = await repository.findRefreshToken(sha256Hex(refreshToken));
      // Unknown or already-ended: nothing to do; answering the same way reveals nothing (RFC 7009 §2.2).
      if (!record) return;
      await repository.revoke(record.sessionId, clock.now().getTime());
      cache.revoke(record.sessionId);
      await deps.onSessionsEnded?.(record.userId);
    },

    async logoutAll(userId) {
      await repository.revokeForUser(userId, clock.now().getTime());
      cache.revokeUser(userId);
      await deps.onSessionsEnded?.(userId);
    },

    async list(userId, currentSessionId) {
      const rows = await repository.listActive(userId, clock.now().getTime());
      return rows.map((row) => toView(row, currentSessionId));
    },

    async end(userId, sessionId) {
      const session = await repository.findSession(sessionId);
      // Another user's session is "not found" too: ids of other people's sessions reveal nothing.
      if (!session || session.user_id !== userId || session.revoked_at !== null)
        throw new AppError('not_found', { message: 'No such session.' });
      await repository.revoke(sessionId, clock.now().getTime());
      cache.revoke(sessionId);
      await deps.onSessionsEnded?.(userId);
    },

    async endOthers(userId, keepSessionId) {
      await repository.revokeForUser(userId, clock.now().getTime(), keepSessionId);
      cache.revokeUser(userId, keepSessionId);
      await deps.onSessionsEnded?.(userId);
    },

    async isActive(sessionId, userId) {
      return (await check(sessionId, userId)).active;
    },

    check,

    userChanged(userId) {
      cache.forgetUser(userId);
    },

    async amrOf(sessionId, userId) {
      const session = await repository.findSession(sessionId);
      return session && session.user_id === userId ? session.amr.split(',').filter(Boolean) : [];
    },
  };
}

function toView(row: SessionRow, currentSessionId: number): SessionView {
  return {
    id: row.id,
    created_at: new Date(row.created_at).toISOString(),
    last_used_at: new Date(row.last_used_at).toISOString(),
    user_agent: row.user_agent,
    ip: row.ip,
    current: row.id === currentSessionId,
  };
}

function truncate(value: string | null, max: number): string | null {
  return value === null ? null : value.slice(0, max);
}
