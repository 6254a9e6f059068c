import type { FastifyBaseLogger } from 'fastify';

// A hung SMTP server must not hold a shutdown for nodemailer's minutes-long socket timeout.
const SETTLE_MAX_WAIT_MS = 10_000;

export interface BackgroundTasks {
  /** Runs `work` after the current response has gone out; failures are logged, never shown to the caller. */
  run(what: string, work: () => Promise<void>): void;
  /** Resolves once every task started is done or has failed, or after `maxWaitMs` (shutdown). */
  settled(maxWaitMs?: number): Promise<void>;
}

/**
 * Work an anonymous request starts but does not wait for (looking an address up, mailing it), so
 * that neither the answer nor its timing tells whether the address has an account (OWASP Forgot
 * Password Cheat Sheet: "return a consistent message for both existent and non-existent accounts"
 * and "ensure that responses return in a consistent amount of time").
 */
export function createBackgroundTasks(log: FastifyBaseLogger, abandonedMessage: string): BackgroundTasks {
  const pending = new Set<Promise<void>>();
  return {
    run(what, work) {
      const task = new Promise<void>((resolve) => setImmediate(resolve))
        .then(work)
        .catch((error: unknown) => log.error({ err: error }, `${what} failed`))
        .finally(() => pending.delete(task));
      pending.add(task);
    },
    async settled(maxWaitMs = SETTLE_MAX_WAIT_MS) {
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<'gave_up'>((resolve) => {
        timer = setTimeout(() => resolve('gave_up'), maxWaitMs).unref();
      });
      const drained = (async (): Promise<'drained'> => {
        while (pending.size > 0) await Promise.all([...pending]);
        return 'drained';
      })();
      const outcome = await Promise.race([drained, gaveUp]);
      clearTimeout(timer);
      if (outcome === 'gave_up') log.warn({ pending: pending.size }, abandonedMessage);
    },
  };
}
