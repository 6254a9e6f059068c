import type { FastifyBaseLogger } from 'fastify';

const RUNTIME_WARNING = 'oidc-provider WARNING: Unsupported runtime';

/**
 * Loads the provider module. When first loaded, oidc-provider writes to stderr that it supports Node 22 LTS and later;
 * Twofold runs on Node 20 (its suite, the provider's included, runs there), and that line would otherwise be the
 * first one a person reads when starting the server, before where the web UI is. That one line goes to the server's
 * log at debug level instead; every other warning passes through untouched.
 */
export async function loadOidcProvider(log: FastifyBaseLogger): Promise<typeof import('./provider.js')> {
  const warn = console.warn;
  const held: string[] = [];
  console.warn = (...args: unknown[]): void => {
    const [first] = args;
    if (typeof first === 'string' && first.includes(RUNTIME_WARNING)) held.push(first);
    else warn(...args);
  };
  try {
    return await import('./provider.js');
  } finally {
    console.warn = warn;
    for (const line of held) log.debug(line);
  }
}
