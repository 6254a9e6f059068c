import { CommanderError } from 'commander';
import type { Config } from '../config.js';
import type { UserRow } from '../modules/accounts/accounts.repository.js';
import { createRecordingSessionCache, publishRevocations } from '../modules/sessions/revocation-bus.js';
import { createServices, type Services } from '../services.js';

/**
 * Runs one command on the services the server uses (src/services.ts), without Redis: the command
 * counts nothing. Then it tells running servers sharing REDIS_URL what it revoked, at once;
 * without Redis they apply it within their 5 s session cache.
 */
export async function withServices<T>(config: Config, work: (services: Services) => Promise<T>): Promise<T> {
  const sessionCache = createRecordingSessionCache();
  const services = await createServices(config, { redis: false, sessionCache });
  try {
    return await work(services);
  } finally {
    await services.close();
    const { revocations } = sessionCache;
    if (config.redisUrl && revocations.length > 0 && !(await publishRevocations(config.redisUrl, revocations))) {
      console.error('note: Redis did not answer; running servers apply this within 5 seconds.');
    }
  }
}

/** The account a command names, or the command fails with exit code 1. */
export async function findUser({ accounts }: Services, username: string): Promise<UserRow> {
  const row = await accounts.findByUsername(username);
  if (!row) throw new CommanderError(1, 'twofold.not_found', `No user named "${username}".`);
  return row;
}
