/**
 * The server side of `npm run bench`, run in a child process (node --import tsx) so the load
 * generator never shares an event loop with what it measures. It starts Twofold (createApp +
 * listen) and the bare ceiling app on ephemeral ports, seeds the database, reports over IPC,
 * and exits when the parent disconnects.
 */
import type { FastifyInstance } from 'fastify';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { buildCeiling } from './ceiling.js';
import { BENCH_PASSWORD, seed } from './seed.js';

export interface ReadyMessage {
  type: 'ready';
  twofoldUrl: string;
  ceilingUrl: string;
  accessToken: string;
  usernames: string[];
  password: string;
  argon2: { memoryKiB: number; iterations: number; parallelism: number };
  databaseUrl: string;
  logLevel: string;
}

export interface FailedMessage {
  type: 'failed';
  message: string;
}

export type ServerMessage = ReadyMessage | FailedMessage;

const HOST = '127.0.0.1';

function countFromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer (got "${process.env[name]}")`);
  return value;
}

async function start(apps: FastifyInstance[]): Promise<ReadyMessage> {
  const config = loadConfig(process.env);
  if (!config.databaseUrl.startsWith('sqlite:')) throw new Error(`the benchmark runs on SQLite (got ${config.databaseUrl})`);
  const { app } = await createApp(config);
  apps.push(app);
  const seeded = await seed(app, { users: countFromEnv('BENCH_USERS', 100), products: countFromEnv('BENCH_PRODUCTS', 1000) });
  const twofoldUrl = await app.listen({ port: 0, host: HOST });

  const ceiling = await buildCeiling({ sqliteFile: config.databaseUrl.slice('sqlite:'.length), jwt: config.jwt, argon2: config.argon2, password: BENCH_PASSWORD });
  apps.push(ceiling);
  const ceilingUrl = await ceiling.listen({ port: 0, host: HOST });

  return { type: 'ready', twofoldUrl, ceilingUrl, ...seeded, password: BENCH_PASSWORD, argon2: { ...config.argon2 }, databaseUrl: config.databaseUrl, logLevel: config.logLevel };
}

async function main(): Promise<void> {
  if (!process.send) throw new Error('bench/server.ts is started by bench/run.ts (it needs an IPC channel)');
  const apps: FastifyInstance[] = [];
  let stopping = false;
  const stop = (code: number): void => {
    if (stopping) return;
    stopping = true;
    void Promise.allSettled(apps.map((app) => app.close())).then(() => process.exit(code));
  };
  // The parent going away (normally or not) closes the IPC channel: never outlive it.
  process.on('disconnect', () => stop(0));
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));
  try {
    process.send(await start(apps));
  } catch (error) {
    const message: ServerMessage = { type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    process.send(message, () => stop(1));
  }
}

await main();
