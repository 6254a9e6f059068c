import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/**
 * A CommonJS package loaded on first use instead of at start-up: database drivers, Redis, SMTP
 * and QR code libraries that a given deployment may never need. Keeps cold start and idle memory
 * down (bench: cold start); the type comes from a type-only import, so nothing loads early.
 */
export function lazy<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= load(name) as T);
}
