import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../config.js';
import type { AuditView } from '../modules/audit/audit.service.js';
import { findUser, withServices } from './with-services.js';

const AUDIT_LIMIT_MAX = 1000;

function parseLimit(value: string): number {
  const limit = Number(value);
  if (!/^\d+$/.test(value) || limit < 1 || limit > AUDIT_LIMIT_MAX)
    throw new InvalidArgumentError(`Use a whole number from 1 to ${AUDIT_LIMIT_MAX}.`);
  return limit;
}

/** One event a line, tab-separated: time, type, user id, IP, detail JSON ("-" for none). */
function formatAuditLine(event: AuditView): string {
  return [event.at, event.type, event.user_id ?? '-', event.ip ?? '-', JSON.stringify(event.detail)].join('\t');
}

interface AuditOptions {
  user?: string;
  type?: string;
  limit: number;
}

async function printAudit(options: AuditOptions): Promise<void> {
  const events = await withServices(loadConfig(), async (services) => {
    const userId = options.user === undefined ? undefined : (await findUser(services, options.user)).id;
    return services.audit.list({ userId, type: options.type, limit: options.limit });
  });
  if (events.length === 0) console.error('No audit events match.');
  for (const event of events) console.log(formatAuditLine(event));
}

/** `twofold audit`: the newest audit events, one a line. */
export function addAuditCommand(program: Command): void {
  program
    .command('audit')
    .description('list audit events, newest first (time, type, user id, IP, detail)')
    .option('--user <username>', "only this user's events")
    .option('--type <type>', 'only events of this type, e.g. login.failed')
    .option('--limit <n>', `how many events (1-${AUDIT_LIMIT_MAX})`, parseLimit, 50)
    .action(async (options: AuditOptions) => printAudit(options));
}
