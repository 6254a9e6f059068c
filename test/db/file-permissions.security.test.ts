import { spawn } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/db/create-database.js';
import { migrateToLatest } from '../../src/db/migrate.js';

/** The SQLite database and its folder are readable by the service's own user only. */

const ROOT = path.resolve(import.meta.dirname, '../..');
const mode = (file: string) => statSync(file).mode & 0o777;

describe('file permissions of the SQLite database', () => {
  it('creates the folder 0700 and the database, -wal and -shm files 0600', async () => {
    const folder = path.join(mkdtempSync(path.join(tmpdir(), 'twofold-perm-')), 'fresh', 'data');
    const file = path.join(folder, 'twofold.db');
    const database = createDatabase(`sqlite:${file}`);
    try {
      await migrateToLatest(database); // writes, so the -wal and -shm files exist
      // Checked while open: SQLite removes -wal and -shm when the last connection closes.
      expect(mode(folder)).toBe(0o700);
      expect(mode(file)).toBe(0o600);
      expect(mode(`${file}-wal`)).toBe(0o600);
      expect(mode(`${file}-shm`)).toBe(0o600);
    } finally {
      await database.close();
    }
  });

  it('the CLI in development makes a fresh data folder 0700 with a 0600 database and secrets file', async () => {
    const dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'twofold-perm-')), 'data');
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts'), 'migrate'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', TWOFOLD_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const status = await new Promise((resolve) => child.once('close', resolve));
    expect(status, stderr).toBe(0);
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(path.join(dataDir, 'twofold.db'))).toBe(0o600);
    expect(mode(path.join(dataDir, 'secrets.json'))).toBe(0o600);
  });
});
