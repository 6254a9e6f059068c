import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';

/** What named the person whose events are erased. */
export interface ErasedPerson {
  username: string;
  email: string | null;
}

/** Detail keys whose text value is about the person rather than the event (an address, a name, a hash of one). */
const PERSONAL_KEY = /email|address|user_?name|user_agent|(^|_)(name|ip)($|_)/i;

/**
 * The detail of one event with what identifies the person removed: every text value under a
 * personal-sounding key, every text value with an `@` (an address, an earlier one too), and every
 * text value that contains their username or email address (compared case-insensitively). Numbers
 * and flags (`by`, `session_id`, `email: true`) stay: they say what happened, not who it happened
 * to. Returns the new JSON text, or null when nothing changes.
 */
export function erasedDetail(text: string, person: ErasedPerson): string | null {
  let detail: unknown;
  try {
    detail = JSON.parse(text);
  } catch {
    return '{}';
  }
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return '{}';
  const needles = [person.username, person.email]
    .filter((value): value is string => typeof value === 'string' && value.length > 0)
    .map((value) => value.toLowerCase());
  const kept: Record<string, unknown> = {};
  let changed = false;
  for (const [key, value] of Object.entries(detail as Record<string, unknown>)) {
    const personal =
      typeof value === 'string' &&
      (PERSONAL_KEY.test(key) || value.includes('@') || needles.some((needle) => value.toLowerCase().includes(needle)));
    if (personal) changed = true;
    else kept[key] = value;
  }
  return changed ? JSON.stringify(kept) : null;
}

/**
 * The audit trail outlives a deleted account (it is the record of what happened, kept for the
 * security of the service: GDPR Art. 17(3)(e), Recital 49), but not the personal data in it: on the
 * caller's transaction (the deletion's), every event of the user loses its IP address and user
 * agent, and its detail what named the person (erasedDetail). The user id stays, a number that no
 * longer names anyone.
 */
export async function eraseUserTrail(trx: Kysely<Database>, userId: number, person: ErasedPerson): Promise<void> {
  const rows = await trx.selectFrom('audit_events').select(['id', 'detail']).where('user_id', '=', userId).execute();
  for (const row of rows) {
    const detail = erasedDetail(row.detail, person);
    if (detail !== null) await trx.updateTable('audit_events').set({ detail }).where('id', '=', row.id).execute();
  }
  await trx.updateTable('audit_events').set({ ip: null, user_agent: null }).where('user_id', '=', userId).execute();
}
