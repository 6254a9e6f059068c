import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, signUp, type TestApp } from '../support/app.js';
import { challenge, claimsOf, passwordLogin, secondStep } from '../support/two-factor.js';

/**
 * The service against real clients, not our own TOTP code: Debian's `zbarimg` decodes the QR code
 * a phone would scan, and `oathtool` (OATH Toolkit) computes codes as an authenticator app does.
 * Both come from Debian packages (zbar-tools, oathtool) that .ci/run installs. SQLite only: the
 * database is not what is tested here.
 */

const CI = process.env.CI === 'true';

function toolMissing(command: string, aptPackage: string): boolean {
  const missing = spawnSync(command, ['--version'], { stdio: 'ignore' }).error !== undefined;
  if (missing && !CI)
    console.warn(
      `SKIPPED: ${command} is not installed (apt-get install ${aptPackage}); its real-client test does not run.`,
    );
  return missing;
}

const zbarMissing = toolMissing('zbarimg', 'zbar-tools');
const oathMissing = toolMissing('oathtool', 'oathtool');

/** Under CI=true a missing tool is a failure, never a silent skip. */
function requireTool(missing: boolean, command: string): void {
  if (missing) throw new Error(`${command} is required when CI=true`);
}

/** `oathtool --totp -b SECRET`: the codes for the current real-time step and the `window` steps after it. */
function oathtool(secret: string, extra: string[] = []): string[] {
  return execFileSync('oathtool', ['--totp', '-b', ...extra, secret], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
    .trim()
    .split('\n');
}

describe('two-factor with real clients (zbarimg, oathtool) on sqlite', () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    t = await buildTestApp({ dialect: 'sqlite' });
    dir = mkdtempSync(path.join(tmpdir(), 'twofold-qr-'));
  });
  afterAll(async () => {
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function setup(app: TestApp) {
    const a = await signUp(app.app);
    const response = await app.app.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: a.auth });
    expect(response.statusCode).toBe(200);
    return { ...a, ...(response.json() as { secret: string; otpauth_url: string; qr_base64: string }) };
  }

  function decodeQR(dataURL: string, name: string): string {
    const prefix = 'data:image/png;base64,';
    expect(dataURL.startsWith(prefix)).toBe(true);
    const file = path.join(dir, `${name}.png`);
    writeFileSync(file, Buffer.from(dataURL.slice(prefix.length), 'base64'));
    // --raw prints only the payload, followed by one newline.
    // stderr is captured: zbarimg complains about D-Bus on machines without one.
    return execFileSync('zbarimg', ['--raw', '-q', file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).replace(/\n$/, '');
  }

  it.skipIf(zbarMissing && !CI)('zbarimg decodes the QR code to exactly the otpauth_url', async () => {
    requireTool(zbarMissing, 'zbarimg');
    const a = await setup(t);
    expect(decodeQR(a.qr_base64, 'default')).toBe(a.otpauth_url);
    expect(a.otpauth_url).toBe(
      `otpauth://totp/Twofold:${a.username}?secret=${a.secret}&issuer=Twofold&algorithm=SHA1&digits=6&period=30`,
    );
  });

  it.skipIf(zbarMissing && !CI)(
    'zbarimg decodes a QR code whose issuer needs percent-encoding (TOTP_ISSUER)',
    async () => {
      requireTool(zbarMissing, 'zbarimg');
      const custom = await buildTestApp({ dialect: 'sqlite', env: { TOTP_ISSUER: 'Acme Corp & Co' } });
      try {
        const a = await setup(custom);
        expect(
          a.otpauth_url.startsWith(
            `otpauth://totp/Acme%20Corp%20%26%20Co:${a.username}?secret=${a.secret}&issuer=Acme%20Corp%20%26%20Co&`,
          ),
        ).toBe(true);
        expect(decodeQR(a.qr_base64, 'issuer')).toBe(a.otpauth_url);
      } finally {
        await custom.close();
      }
    },
  );

  it.skipIf(oathMissing && !CI)(
    'codes from oathtool at real time verify the setup and sign in, in two steps and in one',
    async () => {
      requireTool(oathMissing, 'oathtool');
      // oathtool reads the system clock, so the app's clock is set to real time before each check.
      t.clock.set(new Date());
      const a = await setup(t);

      const [setupCode] = oathtool(a.secret);
      t.clock.set(new Date());
      const verified = await t.app.inject({
        method: 'POST',
        url: '/api/auth/2fa/verify-setup',
        headers: a.auth,
        payload: { code: setupCode },
      });
      expect(verified.statusCode, verified.body).toBe(200);

      // The setup's step is spent; the next step's code (one line further with -w 1) is within the ±1 window.
      const nextCode = oathtool(a.secret, ['-w', '1']).at(-1)!;
      t.clock.set(new Date());
      const twoStep = await secondStep(t, await challenge(t, a.username), nextCode);
      expect(twoStep.statusCode, twoStep.body).toBe(200);
      expect((await claimsOf(t, twoStep.json().access_token)).amr).toEqual(['pwd', 'otp']);

      // Two steps ahead of real time, with the app's clock one step ahead so that it is within the window again.
      const laterCode = oathtool(a.secret, ['-w', '2']).at(-1)!;
      t.clock.set(new Date(Date.now() + 30_000));
      const oneStep = await passwordLogin(t, a.username, { totp_code: laterCode }, '/login');
      expect(oneStep.statusCode, oneStep.body).toBe(200);
      expect((await claimsOf(t, oneStep.json().access_token)).amr).toEqual(['pwd', 'otp']);
    },
  );

  it.skipIf(oathMissing && !CI)(
    'oathtool and the service agree on the code at fixed times (oathtool --now)',
    async () => {
      requireTool(oathMissing, 'oathtool');
      t.clock.set(new Date('2026-01-15T12:00:00Z'));
      const a = await setup(t);
      const codeAt = (ms: number): string => oathtool(a.secret, ['--now', `@${Math.floor(ms / 1000)}`])[0]!;

      const verified = await t.app.inject({
        method: 'POST',
        url: '/api/auth/2fa/verify-setup',
        headers: a.auth,
        payload: { code: codeAt(t.clock.now().getTime()) },
      });
      expect(verified.statusCode, verified.body).toBe(200);
      for (let i = 1; i <= 3; i++) {
        t.clock.advance(30_000);
        const response = await secondStep(t, await challenge(t, a.username), codeAt(t.clock.now().getTime()));
        expect(response.statusCode, response.body).toBe(200);
      }
    },
  );
});
