import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { TEST_SECRETS, UNLIMITED } from '../../support/app.js';
import { startMailbox, type Mailbox } from '../../support/mailbox.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
export const ARTIFACTS = path.join(ROOT, 'test/e2e/artifacts');

/** DEVELOPERS.md: Debian's Chromium, headless, with no traffic beyond 127.0.0.1. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Harness {
  baseUrl: string;
  mailbox: Mailbox;
  browser: Browser;
  /** Every console error and page error seen so far, in any page of any context. */
  consoleErrors: string[];
  /**
   * A new browser context and page, 1280×900 unless `viewport` says otherwise. `bypassCSP` lets a test inject a
   * script of its own (axe-core, support/axe.ts) past the server's `script-src 'self'`.
   */
  newPage(options?: {
    viewport?: { width: number; height: number };
    bypassCSP?: boolean;
    /** For pages behind a test's own TLS proxy with a self-signed certificate. */
    ignoreHTTPSErrors?: boolean;
  }): Promise<{ context: BrowserContext; page: Page }>;
  /** The whole page by default; `viewport: true` for what is on screen (a modal dialog and its backdrop). */
  screenshot(page: Page, name: string, options?: { viewport?: boolean }): Promise<void>;
  /** Runs the CLI against the same database (e.g. to make an admin). */
  cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Creates an administrator with the CLI, as an operator does on a new install; throws with its stderr. */
  createAdmin(admin: { username: string; password: string }): Promise<void>;
  /** Everything the server has written so far (stdout and stderr), as a person at the terminal reads it. */
  output(): string;
  close(): Promise<void>;
}

/**
 * The real server as `npm start` runs it (`node dist/main.js serve`, built first by `npm test`),
 * on a fresh SQLite database, with mail going to a real SMTP server of the test's own.
 */
export async function startHarness(
  options: {
    env?: Record<string, string>;
    /**
     * Listen on a port chosen before the start, with `PUBLIC_URL` http://localhost:<that port>: the origin the pages
     * open, which WebAuthn needs the relying party (its ID and origins default to PUBLIC_URL's) to match
     * (W3C WebAuthn Level 3 §5.1.3 step 7; an IP address is never a valid RP ID).
     */
    publicUrlIsPageOrigin?: boolean;
    /** More Chromium switches (e.g. `--host-resolver-rules` for test host names that lead to 127.0.0.1). */
    chromiumArgs?: string[];
  } = {},
): Promise<Harness> {
  const mailbox = await startMailbox();
  const port = options.publicUrlIsPageOrigin ? await freePort() : 0;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'twofold-e2e-'));
  const env = {
    PATH: process.env.PATH ?? '',
    ...TEST_SECRETS,
    ...UNLIMITED,
    TWOFOLD_DATA_DIR: dataDir,
    SMTP_URL: mailbox.url,
    MAIL_FROM: 'Twofold <no-reply@twofold.test>',
    LOG_LEVEL: 'warn',
    ...(port ? { PUBLIC_URL: `http://localhost:${port}` } : {}),
    ...options.env,
  };
  const server = spawn(process.execPath, [path.join(ROOT, 'dist/main.js'), 'serve'], {
    cwd: ROOT,
    env: { ...env, PORT: String(port), LOG_LEVEL: 'info' },
  });
  let output = '';
  server.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  server.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const baseUrl = await listeningAddress(server);
  mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, ...(options.chromiumArgs ?? [])],
  });
  const consoleErrors: string[] = [];
  return {
    baseUrl,
    mailbox,
    browser,
    consoleErrors,
    async newPage(options = {}) {
      const context = await browser.newContext({
        baseURL: baseUrl,
        viewport: options.viewport ?? { width: 1280, height: 900 },
        bypassCSP: options.bypassCSP ?? false,
        ignoreHTTPSErrors: options.ignoreHTTPSErrors ?? false,
      });
      const page = await context.newPage();
      page.on('console', (message) => {
        if (message.type() === 'error') consoleErrors.push(`${page.url()}: ${message.text()}`);
      });
      page.on('pageerror', (error) => consoleErrors.push(`${page.url()}: ${error.message}`));
      return { context, page };
    },
    async screenshot(page, name, options = {}) {
      await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: options.viewport !== true });
    },
    cli: (args) => runCli(args, env),
    async createAdmin({ username, password }) {
      const created = await runCli(
        ['user', 'create', '--username', username, '--password', password, '--role', 'admin'],
        env,
      );
      if (created.code !== 0) throw new Error(`user create failed: ${created.stderr}`);
    },
    output: () => output,
    async close() {
      await browser.close();
      server.kill('SIGTERM');
      await new Promise((resolve) => (server.exitCode !== null ? resolve(null) : server.once('exit', resolve)));
      await mailbox.close();
    },
  };
}

/** A port free on 127.0.0.1 a moment ago (the system's pick), for a server that must know its own before it starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

function listeningAddress(server: ChildProcess): Promise<string> {
  let output = '';
  return new Promise((resolve, reject) => {
    server.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Twofold is listening on (http:\/\/[\d.:]+)/.exec(output);
      if (match?.[1]) resolve(match[1].replace('127.0.0.1', 'localhost'));
    });
    server.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.once('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
}

function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/main.js'), ...args], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
