import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const MAIN = path.join(ROOT, 'src/main.ts');

function dataDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'twofold-cli-'));
}

function cli(dir: string, args: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', TWOFOLD_DATA_DIR: dir, LOG_LEVEL: 'warn', ...env },
    timeout: 30_000,
  });
}

function userRow(dir: string, username: string): { role: string; password_hash: string } | undefined {
  const db = new SQLite(path.join(dir, 'twofold.db'), { readonly: true });
  try {
    return db.prepare('select role, password_hash from users where username_normalized = ?').get(username.toLowerCase()) as { role: string; password_hash: string } | undefined;
  } finally {
    db.close();
  }
}

describe('command line', () => {
  it('migrates an empty database, then reports it up to date', () => {
    const dir = dataDir();
    const first = cli(dir, ['migrate']);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/Applied 0001-initial, 0002-two-factor, 0003-protection/);
    const second = cli(dir, ['migrate']);
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/up to date/);
  });

  it('creates users, changes roles, and refuses bad arguments with a message and a non-zero exit', () => {
    const dir = dataDir();
    const created = cli(dir, ['user', 'create', '--username', 'Boss', '--password', 'a long admin passphrase', '--email', 'boss@example.com', '--role', 'admin']);
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    expect(created.stdout).toMatch(/Created user Boss .*role admin/);
    expect(userRow(dir, 'boss')).toMatchObject({ role: 'admin', password_hash: expect.stringMatching(/^\$argon2id\$/) });

    const demoted = cli(dir, ['user', 'set-role', 'boss', 'user']);
    expect(demoted.status).toBe(0);
    expect(userRow(dir, 'Boss')?.role).toBe('user');

    const duplicate = cli(dir, ['user', 'create', '--username', 'BOSS', '--password', 'another long passphrase']);
    expect(duplicate.status).not.toBe(0);
    expect(duplicate.stderr).toMatch(/already taken/);

    const missing = cli(dir, ['user', 'create', '--username', 'nopass']);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/--password/);

    const weak = cli(dir, ['user', 'create', '--username', 'weak', '--password', 'password']);
    expect(weak.status).not.toBe(0);
    expect(weak.stderr).toMatch(/password/);

    const badRole = cli(dir, ['user', 'set-role', 'boss', 'emperor']);
    expect(badRole.status).not.toBe(0);
    expect(badRole.stderr).toMatch(/Unknown role "emperor"/);

    const ghost = cli(dir, ['user', 'set-role', 'ghost', 'admin']);
    expect(ghost.status).not.toBe(0);
    expect(ghost.stderr).toMatch(/No user named "ghost"/);

    const unknown = cli(dir, ['frobnicate']);
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown command/);
  });

  it('removes a user\'s second factors and ends their sessions with user reset-2fa', () => {
    const dir = dataDir();
    expect(cli(dir, ['user', 'create', '--username', 'lost', '--password', 'a long lost passphrase']).status).toBe(0);
    const db = new SQLite(path.join(dir, 'twofold.db'));
    const { id } = db.prepare("select id from users where username = 'lost'").get() as { id: number };
    db.prepare('insert into totp_factors (user_id, secret_sealed, confirmed_at, created_at) values (?, ?, 1, 1)').run(id, 'v1.x.y.z');
    db.prepare('insert into backup_codes (user_id, code_hash, created_at) values (?, ?, 1)').run(id, 'a'.repeat(64));
    db.prepare("insert into sessions (user_id, amr, created_at, last_used_at, expires_at) values (?, 'pwd,otp', 1, 1, ?)").run(id, Date.now() + 1e9);
    db.close();

    const reset = cli(dir, ['user', 'reset-2fa', 'LOST']);
    expect(reset.stderr).toBe('');
    expect(reset.status).toBe(0);
    expect(reset.stdout).toMatch(/Removed every second factor of LOST/);
    const after = new SQLite(path.join(dir, 'twofold.db'), { readonly: true });
    const count = (sql: string): number => (after.prepare(sql).get(id) as { n: number }).n;
    expect(count('select count(*) n from totp_factors where user_id = ?')).toBe(0);
    expect(count('select count(*) n from backup_codes where user_id = ?')).toBe(0);
    expect(count('select count(*) n from sessions where user_id = ? and revoked_at is null')).toBe(0);
    expect(count("select count(*) n from audit_events where user_id = ? and type = 'mfa.reset'")).toBe(1);
    after.close();

    const ghost = cli(dir, ['user', 'reset-2fa', 'ghost']);
    expect(ghost.status).not.toBe(0);
    expect(ghost.stderr).toMatch(/No user named "ghost"/);
  });

  it('refuses to serve in production without secrets, saying what to set', () => {
    const result = cli(dataDir(), ['serve'], { NODE_ENV: 'production' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/JWT_SECRET/);
    expect(result.stderr).toMatch(/ENCRYPTION_KEY/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('serves, then shuts down cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', TWOFOLD_DATA_DIR: dataDir(), PORT: '0', LOG_LEVEL: 'info' },
    });
    let output = '';
    const address = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /Twofold is listening on (http:\/\/[\d.:]+)/.exec(output);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${output}`)));
    });
    expect(output).toMatch(/secrets\.json/);
    const health = await fetch(`${address}/readyz`);
    expect(health.status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toMatch(/shutting down/);
  });
});
