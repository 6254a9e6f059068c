/**
 * The ceiling's process (forked by bench/run.ts with tsx): the bare Fastify app of ceiling.ts on an
 * ephemeral port, on the same database (SQLite file, PostgreSQL or MySQL) and JWT settings as Twofold
 * (read from the same environment). Reports `{ type: 'ready', url, refreshTokens }` over IPC and
 * exits when the parent disconnects, so Twofold's own process holds nothing but Twofold.
 */
import { loadConfig } from '../src/config.js';
import { buildCeiling } from './ceiling.js';
import { BENCH_PASSWORD } from './seed.js';

export interface CeilingReady {
  type: 'ready';
  url: string;
  refreshTokens: string[];
}

export interface ChildFailed {
  type: 'failed';
  message: string;
}

async function main(): Promise<void> {
  if (!process.send) throw new Error('bench/ceiling-server.ts is started by bench/run.ts (it needs an IPC channel)');
  const config = loadConfig(process.env);
  const { app, refreshTokens } = await buildCeiling({
    databaseUrl: config.databaseUrl,
    jwt: config.jwt,
    argon2: config.argon2,
    password: BENCH_PASSWORD,
    refreshTokens: Number(process.env.BENCH_REFRESH_CHAINS ?? 200),
  });
  const stop = (): void => void app.close().finally(() => process.exit(0));
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const ready: CeilingReady = { type: 'ready', url, refreshTokens };
  process.send(ready);
}

main().catch((error: unknown) => {
  const failed: ChildFailed = {
    type: 'failed',
    message: error instanceof Error ? (error.stack ?? error.message) : String(error),
  };
  if (process.send) process.send(failed, () => process.exit(1));
  else {
    console.error(failed.message);
    process.exit(1);
  }
});
