import { format } from 'node:util';
import type { FastifyBaseLogger } from 'fastify';

/**
 * The log of a command that runs once and exits (the CLI): warnings and errors, one plain line
 * each on stderr for the person at the terminal; the rest is dropped. The server logs JSON lines
 * through Fastify's logger instead (src/http/server.ts).
 */
export function createStderrLogger(): FastifyBaseLogger {
  const line =
    (level: string) =>
    (first: unknown, message?: unknown, ...args: unknown[]): void => {
      const text =
        typeof first === 'string' ? format(first, message ?? '', ...args).trimEnd() : format(message ?? '', ...args);
      const error =
        typeof first === 'object' && first !== null && 'err' in first && first.err instanceof Error
          ? `: ${first.err.message}`
          : '';
      process.stderr.write(`${level}: ${text}${error}\n`);
    };
  const drop = (): void => undefined;
  const logger: FastifyBaseLogger = {
    level: 'warn',
    fatal: line('fatal'),
    error: line('error'),
    warn: line('warn'),
    info: drop,
    debug: drop,
    trace: drop,
    silent: drop,
    child: () => logger,
  };
  return logger;
}
