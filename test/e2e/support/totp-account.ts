import { Secret, TOTP } from 'otpauth';
import type { Harness } from './harness.js';

const PERIOD_MS = 30_000;

/**
 * An authenticator app for a test that needs several codes in a row without waiting half a minute for each. The
 * server accepts a code from the step before or after the current one (clock drift, RFC 6238 §5.2) and each step at
 * most once, later steps only: so the codes handed out are of the previous, the current and the next step, in that
 * order, and only a fourth one waits for a new step.
 */
export class StepAuthenticator {
  private lastStep = -Infinity;
  private readonly totp: TOTP;

  constructor(readonly secret: string) {
    this.totp = new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) });
  }

  async nextCode(): Promise<string> {
    for (;;) {
      const now = Date.now();
      const current = Math.floor(now / PERIOD_MS);
      // The previous step only while it stays within the window for a few seconds more (the code has to reach the
      // server first); this is correctness, not timing.
      const earliest = (current + 1) * PERIOD_MS - now > 5_000 ? current - 1 : current;
      const step = Math.max(this.lastStep + 1, earliest);
      if (step <= current + 1) {
        this.lastStep = step;
        return this.totp.generate({ timestamp: step * PERIOD_MS });
      }
      await new Promise((resolve) => setTimeout(resolve, (current + 1) * PERIOD_MS - now + 250));
    }
  }
}

export interface TotpAccount {
  username: string;
  password: string;
  email: string;
  authenticator: StepAuthenticator;
}

async function api<T>(h: Harness, path: string, body: unknown, token?: string): Promise<T> {
  const response = await fetch(`${h.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/**
 * An account made with the CLI, whose owner then adds an authenticator app through the HTTP API (sign in, set up,
 * confirm with a code), as the security page does.
 */
export async function createTotpAccount(h: Harness, username: string, password: string): Promise<TotpAccount> {
  const email = `${username}@example.test`;
  const created = await h.cli(['user', 'create', '--username', username, '--password', password, '--email', email]);
  if (created.code !== 0) throw new Error(`user create failed: ${created.stderr}`);
  const { access_token } = await api<{ access_token: string }>(h, '/api/auth/login', { username, password });
  const { secret } = await api<{ secret: string }>(h, '/api/auth/2fa/setup', {}, access_token);
  const authenticator = new StepAuthenticator(secret);
  await api(h, '/api/auth/2fa/verify-setup', { code: await authenticator.nextCode() }, access_token);
  return { username, password, email, authenticator };
}
