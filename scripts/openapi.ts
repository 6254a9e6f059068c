/**
 * Writes docs/openapi.json: the OpenAPI document the server generates, in a stable form that
 * can be committed and compared (keys sorted at every level, 2-space indent, trailing newline);
 * and web/src/api/openapi.d.ts: the TypeScript types openapi-typescript derives from that
 * document, which the web UI's shapes (web/src/api/types.ts) and typed calls (web/src/api/client.ts)
 * are built on, so a response field renamed on the server fails the web UI's typecheck.
 * `npm run docs:openapi` runs it; test/docs/api-reference.test.ts fails when either committed
 * file differs from what the server generates now.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import { buildTestApp } from '../test/support/app.js';

export const OPENAPI_FILE = fileURLToPath(new URL('../docs/openapi.json', import.meta.url));
export const API_TYPES_FILE = fileURLToPath(new URL('../web/src/api/openapi.d.ts', import.meta.url));

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Object keys in code-point order at every level; array order is meaningful and kept. */
function sortKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: { [key: string]: Json } = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys(value[key] as Json);
  return sorted;
}

/** The document as committed. A `servers` list would name the machine that ran it: dropped. */
export function renderOpenApi(document: unknown): string {
  const copy = JSON.parse(JSON.stringify(document)) as { [key: string]: Json };
  delete copy.servers;
  return `${JSON.stringify(sortKeys(copy), null, 2)}\n`;
}

/** What the server generates now: the app the tests build (SQLite, test configuration), `app.swagger()`. */
export async function generateOpenApi(): Promise<string> {
  const t = await buildTestApp();
  try {
    return renderOpenApi(t.app.swagger());
  } finally {
    await t.close();
  }
}

const TYPES_BANNER = `/**
 * Generated from docs/openapi.json by openapi-typescript (npm run docs:openapi). Do not edit:
 * change the server's schemas and regenerate; test/docs/api-reference.test.ts checks it.
 */

`;

/** The web UI's API types for a committed document (the output of renderOpenApi). */
export async function renderApiTypes(openapiJson: string): Promise<string> {
  // A parsed object, not a path: the types depend on the document's text alone, not on where it lies.
  const ast = await openapiTS(JSON.parse(openapiJson) as Parameters<typeof openapiTS>[0], { silent: true });
  return `${TYPES_BANNER}${astToString(ast)}`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const openapi = await generateOpenApi();
  writeFileSync(OPENAPI_FILE, openapi);
  console.log(`wrote ${OPENAPI_FILE}`);
  writeFileSync(API_TYPES_FILE, await renderApiTypes(openapi));
  console.log(`wrote ${API_TYPES_FILE}`);
}
