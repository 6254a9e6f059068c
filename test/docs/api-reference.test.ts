import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TYPES_FILE, OPENAPI_FILE, renderApiTypes, renderOpenApi } from '../../scripts/openapi.js';
import { buildTestApp, type TestApp } from '../support/app.js';
import { loadApiDocument, type ApiDocument } from '../support/openapi.js';

/**
 * docs/api.md is the project's own API reference and docs/openapi.json its machine-readable
 * copy. Both are read by people who never run the server, so both must say what the server does
 * now: every operation of the OpenAPI document is named in docs/api.md, docs/api.md names no route
 * the server lacks, and the committed document is what the server generates.
 */

const API_MD = fileURLToPath(new URL('../../docs/api.md', import.meta.url));
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** `/api/products/{id}` and `/api/products/:id` name the same route. */
function normalise(method: string, path: string): string {
  return `${method} ${path.replace(/\{([^}]+)\}/g, ':$1')}`;
}

/** Every route written as `` `METHOD /path` `` in the reference (a query string is not part of the route). */
function routesNamedIn(markdown: string): Map<string, string> {
  const named = new Map<string, string>();
  const pattern = new RegExp(`\`(${METHODS.join('|')}) (/[^\`\\s?]*)(?:\\?[^\`]*)?\``, 'g');
  for (const match of markdown.matchAll(pattern)) named.set(normalise(match[1]!, match[2]!), match[0]);
  return named;
}

describe('docs/api.md and docs/openapi.json', () => {
  let t: TestApp;
  let api: ApiDocument;
  let markdown: string;

  beforeAll(async () => {
    t = await buildTestApp();
    api = await loadApiDocument(t.app);
    markdown = readFileSync(API_MD, 'utf8');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('names every operation of the OpenAPI document', () => {
    // Hidden routes (hide: true: /metrics, /docs, the web UI's pages) are not in the document at all.
    const named = routesNamedIn(markdown);
    const missing = api.operations
      .map((op) => op.key)
      .filter((key) => !named.has(normalise(key.split(' ')[0]!, key.split(' ')[1]!)));
    expect(api.operations.length).toBeGreaterThan(40);
    expect(missing, 'add each as `METHOD /path` to docs/api.md').toEqual([]);
  });

  it('names no route the server does not have', () => {
    const documented = new Set(api.operations.map((op) => normalise(op.method, op.path)));
    const unknown: string[] = [];
    for (const [key, written] of routesNamedIn(markdown)) {
      if (documented.has(key)) continue;
      // A route left out of the document (GET /metrics, GET /docs, the old pages' redirects) still exists.
      const [method, url] = key.split(' ') as [(typeof METHODS)[number], string];
      if (!t.app.hasRoute({ method, url })) unknown.push(written);
    }
    expect(unknown, 'docs/api.md names routes the server does not have').toEqual([]);
  });

  it('docs/openapi.json is what the server generates now (npm run docs:openapi)', () => {
    const committed = readFileSync(OPENAPI_FILE, 'utf8');
    expect(committed === renderOpenApi(t.app.swagger()), 'docs/openapi.json is stale: run npm run docs:openapi').toBe(
      true,
    );
    // The document the server publishes is the same one.
    expect(JSON.parse(committed)).toEqual(JSON.parse(renderOpenApi(api.doc)));
  });

  it('web/src/api/openapi.d.ts is what openapi-typescript makes of that document (npm run docs:openapi)', async () => {
    // The web UI's types (web/src/api/types.ts) are derived from this file: a stale copy would let a
    // renamed or removed response field pass the web typecheck and break only in the browser.
    const committed = readFileSync(API_TYPES_FILE, 'utf8');
    const generated = await renderApiTypes(renderOpenApi(t.app.swagger()));
    expect(committed === generated, 'web/src/api/openapi.d.ts is stale: run npm run docs:openapi').toBe(true);
  });
});
