import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
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

interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as a child process. Asynchronous: a blocked test worker misses vitest's own messages. */
function cli(dir: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', TWOFOLD_DATA_DIR: dir, LOG_LEVEL: 'warn', ...env },
    timeout: 60_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function userRow(dir: string, username: string): { role: string; password_hash: string } | undefined {
  const db = new SQLite(path.join(dir, 'twofold.db'), { readonly: true });
  try {
    return db
      .prepare('select role, password_hash from users where username_normalized = ?')
      .get(username.toLowerCase()) as { role: string; password_hash: string } | undefined;
  } finally {
    db.close();
  }
}

function auditEvents(
  dir: string,
  type: string,
): Array<{ detail: string; user_agent: string | null; ip: string | null }> {
  const db = new SQLite(path.join(dir, 'twofold.db'), { readonly: true });
  try {
    return db.prepare('select detail, user_agent, ip from audit_events where type = ? order by id').all(type) as Array<{
      detail: string;
      user_agent: string | null;
      ip: string | null;
    }>;
  } finally {
    db.close();
  }
}

// Every command is a fresh Node process (one to several seconds each on a busy machine).
describe('command line', { timeout: 120_000 }, () => {
  it('migrates an empty database, then reports it up to date', async () => {
    const dir = dataDir();
    const first = await cli(dir, ['migrate']);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/Applied 0001-initial, 0002-two-factor, 0003-protection/);
    const second = await cli(dir, ['migrate']);
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/up to date/);
  });

  it('creates users, changes roles, and refuses bad arguments with a message and a non-zero exit', async () => {
    const dir = dataDir();
    const created = await cli(dir, [
      'user',
      'create',
      '--username',
      'Boss',
      '--password',
      'a long admin passphrase',
      '--email',
      'boss@example.com',
      '--role',
      'admin',
    ]);
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    expect(created.stdout).toMatch(/Created user Boss .*role admin/);
    expect(userRow(dir, 'boss')).toMatchObject({
      role: 'admin',
      password_hash: expect.stringMatching(/^\$argon2id\$/),
    });

    // The only administrator can be demoted from the command line (its operator is the way back in).
    const demoted = await cli(dir, ['user', 'set-role', 'boss', 'user']);
    expect(demoted.status).toBe(0);
    expect(userRow(dir, 'Boss')?.role).toBe('user');
    const roleEvents = auditEvents(dir, 'role.changed');
    expect(roleEvents).toEqual([
      { detail: '{"from":"user","to":"admin","by":"cli"}', user_agent: 'twofold-cli', ip: null },
      { detail: '{"from":"admin","to":"user","by":"cli"}', user_agent: 'twofold-cli', ip: null },
    ]);

    const duplicate = await cli(dir, ['user', 'create', '--username', 'BOSS', '--password', 'another long passphrase']);
    expect(duplicate.status).not.toBe(0);
    expect(duplicate.stderr).toMatch(/already taken/);

    const missing = await cli(dir, ['user', 'create', '--username', 'nopass']);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/--password/);

    const weak = await cli(dir, ['user', 'create', '--username', 'weak', '--password', 'password']);
    expect(weak.status).not.toBe(0);
    expect(weak.stderr).toMatch(/password/);

    const badRole = await cli(dir, ['user', 'set-role', 'boss', 'emperor']);
    expect(badRole.status).not.toBe(0);
    expect(badRole.stderr).toMatch(/Unknown role "emperor"/);

    // A role the server does not know is refused before anything is written.
    const badCreateRole = await cli(dir, [
      'user',
      'create',
      '--username',
      'emperor',
      '--password',
      'a long imperial passphrase',
      '--role',
      'emperor',
    ]);
    expect(badCreateRole.status).not.toBe(0);
    expect(badCreateRole.stderr).toMatch(/Unknown role "emperor"/);
    expect(userRow(dir, 'emperor')).toBeUndefined();

    const ghost = await cli(dir, ['user', 'set-role', 'ghost', 'admin']);
    expect(ghost.status).not.toBe(0);
    expect(ghost.stderr).toMatch(/No user named "ghost"/);

    const unknown = await cli(dir, ['frobnicate']);
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown command/);
  });

  it("removes a user's second factors and ends their sessions with user reset-2fa", async () => {
    const dir = dataDir();
    expect(
      (await cli(dir, ['user', 'create', '--username', 'lost', '--password', 'a long lost passphrase'])).status,
    ).toBe(0);
    const db = new SQLite(path.join(dir, 'twofold.db'));
    const { id } = db.prepare("select id from users where username = 'lost'").get() as { id: number };
    db.prepare('insert into totp_factors (user_id, secret_sealed, confirmed_at, created_at) values (?, ?, 1, 1)').run(
      id,
      'v1.x.y.z',
    );
    db.prepare('insert into backup_codes (user_id, code_hash, created_at) values (?, ?, 1)').run(id, 'a'.repeat(64));
    db.prepare(
      "insert into passkeys (user_id, credential_key, credential_id, public_key, device_type, aaguid, name, created_at) values (?, ?, 'AAAA', 'AA', 'singleDevice', '00000000-0000-0000-0000-000000000000', 'Key', 1)",
    ).run(id, 'b'.repeat(64));
    db.prepare(
      "insert into sessions (user_id, amr, created_at, last_used_at, expires_at) values (?, 'pwd,otp', 1, 1, ?)",
    ).run(id, Date.now() + 1e9);
    db.close();

    const reset = await cli(dir, ['user', 'reset-2fa', 'LOST']);
    expect(reset.stderr).toBe('');
    expect(reset.status).toBe(0);
    expect(reset.stdout).toMatch(/Removed every second factor of LOST/);
    const after = new SQLite(path.join(dir, 'twofold.db'), { readonly: true });
    const count = (sql: string): number => (after.prepare(sql).get(id) as { n: number }).n;
    expect(count('select count(*) n from totp_factors where user_id = ?')).toBe(0);
    expect(count('select count(*) n from backup_codes where user_id = ?')).toBe(0);
    expect(count('select count(*) n from passkeys where user_id = ?')).toBe(0);
    expect(count('select count(*) n from sessions where user_id = ? and revoked_at is null')).toBe(0);
    after.close();
    expect(auditEvents(dir, 'mfa.reset')).toEqual([
      { detail: '{"by":"cli","passkeys_removed":1}', user_agent: 'twofold-cli', ip: null },
    ]);

    const ghost = await cli(dir, ['user', 'reset-2fa', 'ghost']);
    expect(ghost.status).not.toBe(0);
    expect(ghost.stderr).toMatch(/No user named "ghost"/);
  });

  it('deletes an account with user delete (not the last admin), keeping its audit events without personal data', async () => {
    const dir = dataDir();
    const create = (username: string, role: string) =>
      cli(dir, ['user', 'create', '--username', username, '--password', 'a long passphrase here', '--role', role]);
    expect((await create('Chief', 'admin')).status).toBe(0);
    expect((await create('Leaver', 'user')).status).toBe(0);

    const deleted = await cli(dir, ['user', 'delete', 'leaver']);
    expect(deleted.stderr).toBe('');
    expect(deleted.status).toBe(0);
    expect(deleted.stdout).toMatch(/Deleted leaver/);
    expect(userRow(dir, 'Leaver')).toBeUndefined();
    expect(auditEvents(dir, 'account.deleted')).toEqual([
      { detail: '{"by":"cli"}', user_agent: 'twofold-cli', ip: null },
    ]);
    // The name is free again.
    expect((await create('Leaver', 'user')).status).toBe(0);

    const last = await cli(dir, ['user', 'delete', 'Chief']);
    expect(last.status).not.toBe(0);
    expect(last.stderr).toMatch(/last administrator/);
    expect(userRow(dir, 'chief')?.role).toBe('admin');
    const ghost = await cli(dir, ['user', 'delete', 'ghost']);
    expect(ghost.status).toBe(1);
    expect(ghost.stderr).toMatch(/No user named "ghost"/);
  });

  it('lifts a lock and clears the failure count with user unlock, recorded in the audit trail', async () => {
    const dir = dataDir();
    expect(
      (await cli(dir, ['user', 'create', '--username', 'Locked', '--password', 'a long locked passphrase'])).status,
    ).toBe(0);
    const db = new SQLite(path.join(dir, 'twofold.db'));
    const { id } = db.prepare("select id from users where username = 'Locked'").get() as { id: number };
    db.prepare('update users set locked_until = ?, failed_attempts = 7 where id = ?').run(Date.now() + 900_000, id);
    // A locked device cookie of the account: the unlock lifts every lock.
    db.prepare(
      'insert into login_lockouts (lockout_key, user_id, failed_attempts, locked_until, failures_expire_at) values (?, ?, 5, ?, ?)',
    ).run('d'.repeat(64), id, Date.now() + 60_000, Date.now() + 86_400_000);
    db.close();

    const unlocked = await cli(dir, ['user', 'unlock', 'LOCKED']);
    expect(unlocked.stderr).toBe('');
    expect(unlocked.status).toBe(0);
    expect(unlocked.stdout).toMatch(/LOCKED is unlocked/);
    const after = new SQLite(path.join(dir, 'twofold.db'), { readonly: true });
    expect(after.prepare('select locked_until, failed_attempts from users where id = ?').get(id)).toEqual({
      locked_until: null,
      failed_attempts: 0,
    });
    expect(after.prepare('select count(*) as n from login_lockouts where user_id = ?').get(id)).toEqual({ n: 0 });
    const events = after
      .prepare("select detail, user_agent from audit_events where user_id = ? and type = 'account.unlocked'")
      .all(id);
    expect(events).toEqual([{ detail: '{"by":"cli"}', user_agent: 'twofold-cli' }]);
    after.close();

    const ghost = await cli(dir, ['user', 'unlock', 'ghost']);
    expect(ghost.status).not.toBe(0);
    expect(ghost.stderr).toMatch(/No user named "ghost"/);
  });

  it('manages OpenID Connect clients: create prints the secret once, list, rotate-secret, delete, each audited', async () => {
    const dir = dataDir();
    const created = await cli(dir, [
      'client',
      'create',
      '--name',
      'Grafana',
      '--redirect-uri',
      'https://grafana.example.com/login/generic_oauth',
      '--redirect-uri',
      'https://grafana.example.com/alt',
      '--post-logout-redirect-uri',
      'https://grafana.example.com/login',
      '--skip-consent',
      '--json',
    ]);
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    const { client_id: id, client_secret: secret } = JSON.parse(created.stdout) as {
      client_id: string;
      client_secret: string;
    };
    expect(secret).toMatch(/^[\w-]{43}$/);

    const robot = await cli(
      dir,
      ['client', 'create', '--name', 'Robot', '--grant', 'client_credentials', '--scope', 'reports:read', '--json'],
      {
        OIDC_SCOPES: 'reports:read',
      },
    );
    expect(robot.status).toBe(0);
    const spa = await cli(dir, [
      'client',
      'create',
      '--name',
      'SPA',
      '--public',
      '--redirect-uri',
      'http://localhost:5173/cb',
      '--json',
    ]);
    expect(JSON.parse(spa.stdout)).toEqual({ client_id: expect.any(String) });

    const listed = JSON.parse((await cli(dir, ['client', 'list', '--json'])).stdout) as Array<Record<string, unknown>>;
    expect(listed.map((client) => [client.name, client.public, client.grant_types])).toEqual([
      ['Grafana', false, ['authorization_code', 'refresh_token']],
      ['Robot', false, ['client_credentials']],
      ['SPA', true, ['authorization_code', 'refresh_token']],
    ]);
    expect(listed[0]).toMatchObject({
      skip_consent: true,
      redirect_uris: ['https://grafana.example.com/login/generic_oauth', 'https://grafana.example.com/alt'],
      post_logout_redirect_uris: ['https://grafana.example.com/login'],
    });
    expect(listed[2]).toMatchObject({ post_logout_redirect_uris: [] });
    const table = (await cli(dir, ['client', 'list'])).stdout;
    expect(table).toContain('\thttps://grafana.example.com/login\t');
    expect(JSON.stringify(listed)).not.toContain(secret);

    const rotated = await cli(dir, ['client', 'rotate-secret', id, '--json']);
    expect(rotated).toMatchObject({ status: 0, stderr: '' });
    expect(JSON.parse(rotated.stdout)).toEqual({ client_id: id, client_secret: expect.not.stringMatching(secret) });
    expect((await cli(dir, ['client', 'delete', id])).status).toBe(0);
    const missing = await cli(dir, ['client', 'delete', id]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`No client with id "${id}"`);

    const badGrant = await cli(dir, ['client', 'create', '--name', 'X', '--grant', 'password']);
    expect(badGrant.status).not.toBe(0);
    expect(badGrant.stderr).toContain('client_credentials');
    const badScope = await cli(dir, [
      'client',
      'create',
      '--name',
      'X',
      '--grant',
      'client_credentials',
      '--scope',
      'nope',
    ]);
    expect(badScope.status).toBe(1);
    expect(badScope.stderr).toContain('OIDC_SCOPES');

    const types = auditEvents(dir, 'oidc_client.created').length;
    expect(types).toBe(3);
    expect(auditEvents(dir, 'oidc_client.secret_rotated')).toHaveLength(1);
    expect(auditEvents(dir, 'oidc_client.deleted')).toHaveLength(1);
  });

  it('lists audit events newest first with audit, filtered by --user, --type and --limit, and refuses bad arguments', async () => {
    const dir = dataDir();
    expect((await cli(dir, ['migrate'])).status).toBe(0);
    const db = new SQLite(path.join(dir, 'twofold.db'));
    const addUser = db.prepare(
      "insert into users (username, username_normalized, email_verified, password_hash, role, created_at, updated_at) values (?, ?, 0, 'x', 'user', 1, 1)",
    );
    const carol = Number(addUser.run('Carol', 'carol').lastInsertRowid);
    const dave = Number(addUser.run('Dave', 'dave').lastInsertRowid);
    const addEvent = db.prepare(
      'insert into audit_events (at, type, user_id, ip, user_agent, detail) values (?, ?, ?, ?, null, ?)',
    );
    addEvent.run(Date.UTC(2026, 0, 1, 10), 'user.registered', carol, '192.0.2.1', '{"email":false}');
    addEvent.run(Date.UTC(2026, 0, 1, 11), 'login.failed', carol, '192.0.2.2', '{"reason":"wrong_password"}');
    addEvent.run(Date.UTC(2026, 0, 1, 12), 'login.failed', dave, null, '{"reason":"locked"}');
    addEvent.run(Date.UTC(2026, 0, 1, 13), 'login.succeeded', carol, '192.0.2.2', '{"amr":"pwd"}');
    db.close();

    // Read-only commands: run side by side.
    const [listed, newestFailure, badLimit, ghost] = await Promise.all([
      cli(dir, ['audit', '--user', 'CAROL']),
      cli(dir, ['audit', '--type', 'login.failed', '--limit', '1']),
      cli(dir, ['audit', '--limit', 'abc']),
      cli(dir, ['audit', '--user', 'ghost']),
    ]);
    expect(listed.stderr).toBe('');
    expect(listed.status).toBe(0);
    expect(
      listed.stdout
        .trim()
        .split('\n')
        .map((line) => line.split('\t')),
    ).toEqual([
      ['2026-01-01T13:00:00.000Z', 'login.succeeded', String(carol), '192.0.2.2', '{"amr":"pwd"}'],
      ['2026-01-01T11:00:00.000Z', 'login.failed', String(carol), '192.0.2.2', '{"reason":"wrong_password"}'],
      ['2026-01-01T10:00:00.000Z', 'user.registered', String(carol), '192.0.2.1', '{"email":false}'],
    ]);
    expect(newestFailure.stdout).toBe(`2026-01-01T12:00:00.000Z\tlogin.failed\t${dave}\t-\t{"reason":"locked"}\n`);

    expect(badLimit.status).not.toBe(0);
    expect(badLimit.stderr).toMatch(/--limit .*'abc' is invalid.*whole number from 1 to 1000/);
    expect(ghost.status).not.toBe(0);
    expect(ghost.stderr).toMatch(/No user named "ghost"/);
  });

  it('refuses to serve in production without secrets, saying what to set', async () => {
    const result = await cli(dataDir(), ['serve'], { NODE_ENV: 'production' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/JWT_SECRET/);
    expect(result.stderr).toMatch(/ENCRYPTION_KEY/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  /** Starts `serve` with this environment, returns the output up to the listening line, then stops it. */
  async function startupOutput(env: Record<string, string>): Promise<string> {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', TWOFOLD_DATA_DIR: dataDir(), PORT: '0', LOG_LEVEL: 'info', ...env },
    });
    let output = '';
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (/Twofold is listening on/.test(output)) resolve();
        });
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${output}`)));
      });
    } finally {
      const exited = new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
      child.kill('SIGTERM');
      await exited;
    }
    return output;
  }

  const PRODUCTION = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64'),
  };

  it('starts in production with JWT_ALG=EdDSA and a private key and no JWT_SECRET, and says mail cannot be sent without SMTP_URL', async () => {
    const key = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const output = await startupOutput({ ...PRODUCTION, JWT_ALG: 'EdDSA', JWT_PRIVATE_KEY: key });
    expect(output).toMatch(/"jwtAlg":"EdDSA"/);
    expect(output).toMatch(/mail cannot be sent: SMTP_URL is not set/);
    expect(output).not.toMatch(/written to this log/);
  });

  it('names the SMTP host (never its password) on the start-up line when SMTP_URL is set', async () => {
    const output = await startupOutput({
      ...PRODUCTION,
      JWT_SECRET: 'y'.repeat(40),
      SMTP_URL: 'smtp://mailer:hunter2-password@mail.example.com:587',
    });
    expect(output).toMatch(/mail SMTP via mail\.example\.com:587/);
    expect(output).not.toMatch(/hunter2/);
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
    // Development: the first line is where a person goes next, and each request is one readable line.
    expect(output.split('\n')[0]).toMatch(/INFO: Web UI: http:\/\/[\d.:]+\/app\/$/);
    const health = await fetch(`${address}/readyz`);
    expect(health.status).toBe(200);
    await expect.poll(() => output, { timeout: 5000 }).toMatch(/INFO: GET \/readyz 200 [\d.]+ ms\n/);
    expect(output).not.toMatch(/^\{"level"/m);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toMatch(/shutting down/);
  });
});
