import { createApp } from '../app.js';
import type { Config } from '../config.js';
import { mailDestination } from '../modules/mail/mailer.js';

/** `twofold serve`: listens until SIGTERM/SIGINT, then lets in-flight requests finish. */
export async function serve(config: Config): Promise<void> {
  const { app, database } = await createApp(config, { processMetrics: true });
  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    // Fastify stops accepting connections, waits for in-flight requests, then onClose closes the database.
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  // The first line says where a person goes next: the web UI.
  const address = await app.listen({
    port: config.port,
    host: config.host,
    listenTextResolver: (url) => `Web UI: ${url}/app/`,
  });
  // The same rule the mailer follows (services.ts: log delivery only outside production).
  const mail = mailDestination({ smtpUrl: config.smtpUrl, allowLogDelivery: config.nodeEnv !== 'production' });
  app.log.info(
    {
      address,
      database: database.displayUrl,
      dataDir: config.dataDir,
      secrets: config.secretsFile ?? 'from the environment',
      jwtAlg: config.jwt.alg,
      mail,
      docs: `${address}/docs`,
    },
    `Twofold is listening on ${address} (database ${database.displayUrl}; mail ${mail}; API docs at ${address}/docs)`,
  );
}
