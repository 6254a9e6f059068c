import { spawn, fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { processTicks } from './cpu.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const READY_TIMEOUT_MS = 60_000;

/** Every child this benchmark started: killed when it exits, however it exits. */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/**
 * Waits until the processes have gone quiet (under ~10% of a core for 300 ms): requests a load
 * run left queued (a hashing backlog) must not eat into the next measurement.
 */
export async function waitIdle(pids: number[], maxMs = 60_000): Promise<void> {
  const deadline = performance.now() + maxMs;
  let before = pids.map(processTicks);
  while (performance.now() < deadline) {
    await delay(300);
    const now = pids.map(processTicks);
    const busiest = Math.max(...now.map((ticks, i) => ticks - (before[i] ?? 0)));
    before = now;
    if (busiest <= 3) return;
  }
}

export interface RunningServer {
  url: string;
  pid: number;
  /** Process start to the first `GET /readyz` = 200. */
  readyMs: number;
  rssMiB(): number;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound and released; the server binds it a moment later). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Resident memory of a process in MiB (Linux /proc). */
export function rssMiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Math.round(Number(match[1]) / 1024) : Number.NaN;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = delay(5000).then(() => child.kill('SIGKILL'));
  await Promise.race([gone, timer]);
}

/**
 * The Node flags `npm start` runs the server with (package.json; docs/operations.md, "Memory"). The
 * ceilings run with them too, so a ratio compares the work each side does, not two runtime settings.
 */
export const SERVE_NODE_FLAGS = ['--max-semi-space-size=8', '--no-allocation-site-pretenuring'];

/**
 * Starts the real server, `node <SERVE_NODE_FLAGS> dist/main.js serve`, exactly as an operator would (production
 * mode, its own process), and times process start to readiness by polling `/readyz` every 5 ms.
 */
export async function startTwofold(env: Record<string, string>): Promise<RunningServer> {
  const main = path.join(ROOT, 'dist/main.js');
  if (!existsSync(main)) throw new Error('dist/main.js is missing: run `npm run build` first');
  const port = await freePort();
  const started = performance.now();
  const child = track(
    spawn(process.execPath, [...SERVE_NODE_FLAGS, main, 'serve'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`Twofold exited during start (code ${String(code)})`);
  });
  exited.catch(() => undefined);
  const deadline = started + READY_TIMEOUT_MS;
  for (;;) {
    if (performance.now() > deadline) {
      await stopChild(child);
      throw new Error(`Twofold was not ready within ${READY_TIMEOUT_MS / 1000} s`);
    }
    const ok = await Promise.race([
      fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      ),
      exited,
    ]);
    if (ok) break;
    await delay(5);
  }
  const readyMs = performance.now() - started;
  const pid = child.pid as number;
  return { url, pid, readyMs, rssMiB: () => rssMiB(pid), stop: () => stopChild(child) };
}

/**
 * Forks a TypeScript child (tsx) that reports `{ type: 'ready', … }` over IPC; `nodeFlags` go before
 * the script (the ceilings pass SERVE_NODE_FLAGS, the better-auth peer runs on Node's defaults).
 */
export async function forkChild<T extends { type: 'ready' }>(
  script: string,
  env: Record<string, string>,
  { timeoutMs = 300_000, nodeFlags = [] }: { timeoutMs?: number; nodeFlags?: readonly string[] } = {},
): Promise<{ ready: T; pid: number; stop(): Promise<void> }> {
  const child = track(
    fork(script, [], {
      env: { ...process.env, ...env },
      execArgv: [...nodeFlags, '--import', import.meta.resolve('tsx')],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  const ready = await new Promise<T>((resolve, reject) => {
    // A child that never answers is stopped, not left running beside the measured servers.
    const timer = setTimeout(() => {
      reject(new Error(`${path.basename(script)} was not ready within ${timeoutMs / 1000} s`));
      void stopChild(child);
    }, timeoutMs);
    child.once('message', (message: T | { type: 'failed'; message: string }) => {
      clearTimeout(timer);
      if (message.type === 'ready') resolve(message as T);
      else reject(new Error(`${path.basename(script)} failed to start:\n${(message as { message: string }).message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${path.basename(script)} exited early (code ${String(code)})`));
    });
  });
  return {
    ready,
    pid: child.pid as number,
    stop: async () => {
      if (child.connected) child.disconnect();
      await stopChild(child);
    },
  };
}
