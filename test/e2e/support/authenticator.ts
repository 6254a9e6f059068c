import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const STEP_MS = 30_000;

/** Decodes a `data:image/png;base64,…` QR image with the real decoder `zbarimg` (zbar-tools). */
export async function decodeQr(dataUrl: string): Promise<string> {
  const match = /^data:image\/png;base64,(.+)$/s.exec(dataUrl);
  if (!match?.[1]) throw new Error(`not a PNG data URL: ${dataUrl.slice(0, 40)}…`);
  const dir = mkdtempSync(path.join(tmpdir(), 'twofold-qr-'));
  try {
    const file = path.join(dir, 'qr.png');
    writeFileSync(file, Buffer.from(match[1], 'base64'));
    const { stdout } = await run('zbarimg', ['--raw', '-q', file]);
    return stdout.trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A real authenticator: `oathtool` with the real clock, as the server uses. The server accepts a
 * TOTP step at most once per user, so each code is taken from a step later than the last one used.
 */
export class Authenticator {
  private lastStep = -1;

  constructor(readonly secret: string) {}

  /** Waits (only if needed) for a step not used yet, then returns its code. */
  async nextCode(): Promise<string> {
    const step = Math.floor(Date.now() / STEP_MS);
    // A step already used, or one about to end before the code reaches the server: this is
    // correctness, not timing — wait for the next 30 s step to begin (plus a little slack).
    if (step <= this.lastStep || (step + 1) * STEP_MS - Date.now() < 3_000) {
      const waitMs = (step + 1) * STEP_MS - Date.now() + 250;
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
    this.lastStep = Math.floor(Date.now() / STEP_MS);
    const { stdout } = await run('oathtool', ['--totp', '-b', this.secret]);
    return stdout.trim();
  }
}
