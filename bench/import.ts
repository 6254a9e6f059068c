/**
 * `npm run bench:import`: how fast `twofold import` brings a large original app over.
 * Generates a products-API SQLite database (BENCH_IMPORT_USERS users, default 100,000, a third
 * with a TOTP secret; BENCH_IMPORT_PRODUCTS products, default 10,000), then times the real CLI
 * (`node dist/main.js import`, or tsx when dist/ is missing) into a fresh Twofold SQLite database,
 * and a second time to measure a repeated import. Prints users per second and peak memory.
 */
import { spawn } from 'node:child_process';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import SQLite from 'better-sqlite3';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const USERS = Number(process.env.BENCH_IMPORT_USERS ?? 100_000);
const PRODUCTS = Number(process.env.BENCH_IMPORT_PRODUCTS ?? 10_000);
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * Werkzeug's pbkdf2 format; one iteration keeps generation quick (the importer never verifies, it only reads the
 * format).
 */
function werkzeugHash(password: string): string {
  const salt = randomBytes(12).toString('base64url').slice(0, 16);
  return `pbkdf2:sha256:1$${salt}$${pbkdf2Sync(password, salt, 1, 32, 'sha256').toString('hex')}`;
}

function secret(): string {
  return Array.from(randomBytes(32), (b) => BASE32[b % 32]).join('');
}

function generate(file: string): void {
  const db = new SQLite(file);
  db.exec(`create table user (id integer primary key, username varchar(80) unique not null, password varchar(200) not null, twofa_secret varchar(32));
           create table product (id integer primary key, name varchar(100) not null, description varchar(200), price decimal(10,2) not null, quantity integer not null);`);
  const insertUser = db.prepare('insert into user (id, username, password, twofa_secret) values (?, ?, ?, ?)');
  const insertProduct = db.prepare(
    'insert into product (id, name, description, price, quantity) values (?, ?, ?, ?, ?)',
  );
  db.transaction(() => {
    for (let i = 1; i <= USERS; i++)
      insertUser.run(i, `user${i}`, werkzeugHash(`password-${i}`), i % 3 === 0 ? secret() : null);
    for (let i = 1; i <= PRODUCTS; i++)
      insertProduct.run(i, `Product ${i}`, 'Generated', `${i % 1000}.${String(i % 100).padStart(2, '0')}`, i % 50);
  })();
  db.close();
}

interface Run {
  seconds: number;
  stdout: string;
}

/**
 * Runs the real CLI; the wall time includes process start and migrations. The summary's last line has its peak memory.
 */
function importOnce(source: string, dataDir: string): Promise<Run> {
  const built = existsSync(path.join(ROOT, 'dist/main.js'));
  const args = built ? [path.join(ROOT, 'dist/main.js')] : ['--import', 'tsx', path.join(ROOT, 'src/main.ts')];
  const started = performance.now();
  const child = spawn(process.execPath, [...args, 'import', '--from', `sqlite:${source}`], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', TWOFOLD_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`import exited with ${code}:\n${stdout}`));
      resolve({ seconds: (performance.now() - started) / 1000, stdout });
    });
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'twofold-bench-import-'));
  try {
    const source = path.join(dir, 'legacy.db');
    const started = performance.now();
    generate(source);
    console.log(
      `Generated ${USERS.toLocaleString('en-US')} users and ${PRODUCTS.toLocaleString('en-US')} products in ${((performance.now() - started) / 1000).toFixed(1)} s (${source}).`,
    );
    const first = await importOnce(source, path.join(dir, 'twofold'));
    console.log(first.stdout.trim());
    const second = await importOnce(source, path.join(dir, 'twofold'));
    console.log(second.stdout.trim());
    console.log('');
    console.log(`| run | users | seconds | users/s |`);
    console.log(`|---|---|---|---|`);
    console.log(
      `| first import | ${USERS.toLocaleString('en-US')} | ${first.seconds.toFixed(1)} | ${Math.round(USERS / first.seconds).toLocaleString('en-US')} |`,
    );
    console.log(
      `| repeated import (changes nothing) | ${USERS.toLocaleString('en-US')} | ${second.seconds.toFixed(1)} | ${Math.round(USERS / second.seconds).toLocaleString('en-US')} |`,
    );
    console.log('(wall time of the whole CLI process: start, migrations, import of users and products, summary)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
