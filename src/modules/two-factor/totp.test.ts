import { Secret } from 'otpauth';
import { describe, expect, it } from 'vitest';
import {
  TOTP_PERIOD_SECONDS,
  generateTOTP,
  generateTOTPSecret,
  matchTOTPStep,
  otpauthURL,
  qrDataURL,
  timeStep,
} from './totp.js';

// RFC 6238 Appendix B and RFC 4226 Appendix D share the SHA1 key: the ASCII bytes "12345678901234567890".
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

/** RFC 6238 Appendix B, SHA1 rows: time in seconds → the 8-digit TOTP (we use its last 6 digits). */
const RFC6238_SHA1 = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
] as const;

/** RFC 4226 Appendix D: HOTP values for counters 0-9. */
const RFC4226_HOTP = [
  '755224',
  '287082',
  '359152',
  '969429',
  '338314',
  '254676',
  '287922',
  '162583',
  '399871',
  '520489',
];

describe('TOTP (RFC 6238, through the code path the service uses)', () => {
  it('decodes the RFC test key from base32 to the ASCII bytes of the RFC', () => {
    expect(Buffer.from(Secret.fromBase32(RFC_SECRET).bytes).toString('ascii')).toBe('12345678901234567890');
  });

  it.each(RFC6238_SHA1)('generates the Appendix B SHA1 code at T=%i s', (seconds, eightDigits) => {
    expect(generateTOTP(RFC_SECRET, seconds * 1000)).toBe(eightDigits.slice(-6));
  });

  it.each(RFC6238_SHA1)('matches the Appendix B SHA1 code at T=%i s and names its step', (seconds, eightDigits) => {
    const step = Math.floor(seconds / TOTP_PERIOD_SECONDS);
    expect(timeStep(seconds * 1000)).toBe(step);
    expect(matchTOTPStep(RFC_SECRET, eightDigits.slice(-6), seconds * 1000)).toBe(step);
  });

  it.each(RFC4226_HOTP.map((code, counter) => [counter, code] as const))(
    'matches the RFC 4226 Appendix D HOTP value for counter %i',
    (counter, code) => {
      // A TOTP is the HOTP of the time step (RFC 6238 §4.2), so step `counter` starts at counter × 30 s.
      expect(matchTOTPStep(RFC_SECRET, code, counter * 30_000)).toBe(counter);
      expect(generateTOTP(RFC_SECRET, counter * 30_000)).toBe(code);
    },
  );

  describe('the ±1 step window (RFC 6238 §5.2)', () => {
    const now = Date.parse('2026-01-15T12:00:10Z');
    const step = timeStep(now);
    const codeAt = (offsetSteps: number): string =>
      generateTOTP(RFC_SECRET, now + offsetSteps * TOTP_PERIOD_SECONDS * 1000);

    it('accepts the code of the current step', () => {
      expect(matchTOTPStep(RFC_SECRET, codeAt(0), now)).toBe(step);
    });

    it('accepts the previous and the next step and reports which step matched', () => {
      expect(matchTOTPStep(RFC_SECRET, codeAt(-1), now)).toBe(step - 1);
      expect(matchTOTPStep(RFC_SECRET, codeAt(1), now)).toBe(step + 1);
    });

    it('refuses codes two steps away in either direction', () => {
      expect(matchTOTPStep(RFC_SECRET, codeAt(-2), now)).toBeNull();
      expect(matchTOTPStep(RFC_SECRET, codeAt(2), now)).toBeNull();
    });

    it('uses the step boundary, not the distance in seconds', () => {
      const lastMsOfStep = (step + 1) * TOTP_PERIOD_SECONDS * 1000 - 1;
      expect(matchTOTPStep(RFC_SECRET, codeAt(-1), lastMsOfStep)).toBe(step - 1);
      expect(matchTOTPStep(RFC_SECRET, codeAt(-1), lastMsOfStep + 1)).toBeNull();
    });

    it('refuses anything that is not exactly six digits', () => {
      const code = codeAt(0);
      for (const bad of [
        '',
        `${code}0`,
        code.slice(1),
        ` ${code}`,
        `${code.slice(0, 3)} ${code.slice(3)}`,
        'abcdef',
        '12345x',
      ]) {
        expect(matchTOTPStep(RFC_SECRET, bad, now)).toBeNull();
      }
    });
  });

  describe('generateTOTPSecret', () => {
    it('returns at least 160 bits as unpadded RFC 4648 base32', () => {
      const secret = generateTOTPSecret();
      expect(secret).toMatch(/^[A-Z2-7]+$/);
      expect(secret.length * 5).toBeGreaterThanOrEqual(160);
      expect(Secret.fromBase32(secret).bytes.length).toBeGreaterThanOrEqual(20);
    });

    it('never repeats itself', () => {
      const secrets = new Set(Array.from({ length: 200 }, () => generateTOTPSecret()));
      expect(secrets.size).toBe(200);
    });

    it('round-trips through generateTOTP and matchTOTPStep', () => {
      const secret = generateTOTPSecret();
      const now = Date.parse('2026-01-15T12:00:00Z');
      expect(matchTOTPStep(secret, generateTOTP(secret, now), now)).toBe(timeStep(now));
    });
  });

  describe('otpauthURL', () => {
    it('has exactly the shape of the HTTP contract', () => {
      expect(otpauthURL('JBSWY3DPEHPK3PXP', 'Twofold', 'alice')).toBe(
        'otpauth://totp/Twofold:alice?secret=JBSWY3DPEHPK3PXP&issuer=Twofold&algorithm=SHA1&digits=6&period=30',
      );
    });

    it('percent-encodes the issuer and the account name', () => {
      const url = otpauthURL('JBSWY3DPEHPK3PXP', 'Acme & Co', 'a.b_c-d');
      expect(url).toBe(
        'otpauth://totp/Acme%20%26%20Co:a.b_c-d?secret=JBSWY3DPEHPK3PXP&issuer=Acme%20%26%20Co&algorithm=SHA1&digits=6&period=30',
      );
      const parsed = new URL(url);
      expect(parsed.searchParams.get('issuer')).toBe('Acme & Co');
      expect(parsed.host).toBe('totp');
      expect(decodeURIComponent(parsed.pathname)).toBe('/Acme & Co:a.b_c-d');
    });
  });
  describe('qrDataURL', () => {
    it('is a 256-pixel square PNG (what the set-up page shows at its size)', async () => {
      const url = await qrDataURL(otpauthURL('JBSWY3DPEHPK3PXP', 'Twofold', 'alice'));
      expect(url.startsWith('data:image/png;base64,')).toBe(true);
      const png = Buffer.from(url.slice('data:image/png;base64,'.length), 'base64');
      // PNG (RFC 2083 §4.1.1): the IHDR chunk's width and height, big-endian, at bytes 16 and 20.
      expect(png.readUInt32BE(16)).toBe(256);
      expect(png.readUInt32BE(20)).toBe(256);
    });
  });
});
