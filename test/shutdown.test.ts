import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const MAIN = path.join(ROOT, 'src/main.ts');
const PASSWORD = 'shutdown-test-password-41-vermilion';

/**
 * Sends a login and hangs up once the request has been written, as a client that gives up does.
 * Resolves when the request has left this process.
 */
function loginThenHangUp(address: string, username: string): Promise<void> {
  const body = JSON.stringify({ username, password: PASSWORD });
  return new Promise((resolve, reject) => {
    const req = request(`${address}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    req.on('error', () => undefined);
    req.end(body, () => {
      // The server is now hashing (ARGON2_ITERATIONS makes that take a while): hang up.
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 100);
    });
    req.once('response', () => reject(new Error('the login answered before the client hung up')));
  });
}

describe('twofold serve: shutting down', () => {
  it('lets a request whose client hung up finish before the database closes: the sign-in is whole, nothing fails', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'twofold-shutdown-'));
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        TWOFOLD_DATA_DIR: dir,
        PORT: '0',
        LOG_LEVEL: 'info',
        // A slow hash keeps the login in flight long enough for the signal to arrive during it.
        ARGON2_ITERATIONS: '100',
      },
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const address = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', () => {
          const match = /Twofold is listening on (http:\/\/[\d.:]+)/.exec(output);
          if (match?.[1]) resolve(match[1]);
        });
        void exited.then((code) => reject(new Error(`exited early with ${code}: ${output}`)));
      });
      const registered = await fetch(`${address}/api/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'leaving', password: PASSWORD }),
      });
      expect(registered.status).toBe(201);

      await loginThenHangUp(address, 'leaving');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }

    expect(output).toMatch(/shutting down/);
    expect(output).not.toMatch(/unhandled error|internal_error|shutdown failed/);
    // The sign-in the client gave up on still ran to its end, and wrote all of it.
    const db = new SQLite(path.join(dir, 'twofold.db'), { readonly: true });
    try {
      const user = db.prepare('select id, failed_attempts from users where username = ?').get('leaving') as {
        id: number;
        failed_attempts: number;
      };
      expect(user.failed_attempts).toBe(0);
      const sessions = db.prepare('select count(*) as n from sessions where user_id = ?').get(user.id) as { n: number };
      expect(sessions.n).toBe(1);
      const events = db
        .prepare("select count(*) as n from audit_events where user_id = ? and type = 'login.succeeded'")
        .get(user.id) as { n: number };
      expect(events.n).toBe(1);
    } finally {
      db.close();
    }
  }, 60_000);
});
