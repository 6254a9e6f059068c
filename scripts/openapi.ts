/**
 * Writes docs/openapi.json: the OpenAPI document the server generates, in a stable form that
 * can be committed and compared (keys sorted at every level, 2-space indent, trailing newline).
 * `npm run docs:openapi` runs it; test/docs/api-reference.test.ts fails when the committed file
 * differs from what the server generates now.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildTestApp } from '../test/support/app.js';

export const OPENAPI_FILE = fileURLToPath(new URL('../docs/openapi.json', import.meta.url));

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

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(OPENAPI_FILE, await generateOpenApi());
  console.log(`wrote ${OPENAPI_FILE}`);
}
