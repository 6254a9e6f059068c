import { Secret, TOTP } from 'otpauth';
import type * as QRCodeModule from 'qrcode';
import { lazy } from '../../lib/lazy.js';

const qrcode = lazy<typeof QRCodeModule>('qrcode');

// RFC 6238 defaults that every authenticator app understands: SHA1, 6 digits, 30-second steps.
export const TOTP_PERIOD_SECONDS = 30;
const TOTP_DIGITS = 6;
/** One step either side absorbs clock drift between phone and server (RFC 6238 §5.2). */
const TOTP_WINDOW = 1;

/** A new secret of 160 bits (RFC 4226 §4 recommends 160), base32 as authenticator apps expect. */
export function generateTOTPSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totp(secretBase32: string): TOTP {
  return new TOTP({
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    secret: Secret.fromBase32(secretBase32),
  });
}

/** `otpauth://totp/Issuer:account?secret=…&issuer=Issuer&algorithm=SHA1&digits=6&period=30` */
export function otpauthURL(secretBase32: string, issuer: string, account: string): string {
  // Key URI Format (google/google-authenticator wiki): label `Issuer:account`, issuer repeated as a parameter.
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  return `otpauth://totp/${label}?secret=${secretBase32}&issuer=${encodeURIComponent(issuer)}&algorithm=SHA1&digits=${TOTP_DIGITS}&period=${TOTP_PERIOD_SECONDS}`;
}

export async function qrDataURL(text: string): Promise<string> {
  return qrcode().toDataURL(text, { errorCorrectionLevel: 'M', margin: 2, width: 256 });
}

export function timeStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS);
}

/**
 * The time step whose code matches (within ±1 step of now), or null. Comparison is constant
 * time inside otpauth. The caller must still record the step so it is never accepted twice.
 */
export function matchTOTPStep(secretBase32: string, code: string, nowMs: number): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totp(secretBase32).validate({ token: code, timestamp: nowMs, window: TOTP_WINDOW });
  return delta === null ? null : timeStep(nowMs) + delta;
}

/** The code for a time (tests and benchmarks act as the authenticator app). */
export function generateTOTP(secretBase32: string, nowMs: number): string {
  return totp(secretBase32).generate({ timestamp: nowMs });
}
