import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { App } from '../../src/http/server.js';
import type { Session } from './app.js';

/** DELETE /api/user/me, confirmed by typing the account's own username, as its owner does. */
export function deleteOwnAccount(app: App, user: Session & { username: string }): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'DELETE', url: '/api/user/me', headers: user.auth, payload: { confirm: user.username } });
}

/**
 * The account's deletion and `others` sent at once (the deletion first), as the deletion-race
 * suites do each round. The deletion must succeed (204); returns every answer, the deletion's first.
 */
export async function raceDeletion(
  app: App,
  user: Session & { username: string },
  others: Array<() => Promise<LightMyRequestResponse>>,
): Promise<[LightMyRequestResponse, ...LightMyRequestResponse[]]> {
  const [deleted, ...rest] = await Promise.all([deleteOwnAccount(app, user), ...others.map((send) => send())]);
  expect(deleted!.statusCode, deleted!.body).toBe(204);
  return [deleted!, ...rest];
}
