import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * docs/rules.md tells a newcomer which file holds a rule and the name to search for. Each name in
 * a row must appear in one of the files the row links to (a setting's name in src/config.ts), so
 * a rename or a move that leaves the index behind fails here.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const INDEX = resolve(ROOT, 'docs/rules.md');
const CONFIG = readFileSync(resolve(ROOT, 'src/config.ts'), 'utf8');

const rows = readFileSync(INDEX, 'utf8')
  .split('\n')
  .filter((line) => line.startsWith('| ') && line.includes('](../src/'));

describe('docs/rules.md', () => {
  it('lists rules', () => {
    expect(rows.length).toBeGreaterThan(20);
  });

  it.each(rows.map((row) => [row.split('|')[1]!.trim(), row]))(
    '%s: each name is in a file the row names',
    (_q, row) => {
      const cells = row.split('|');
      const files = [...cells[2]!.matchAll(/\]\(([^)]+)\)/g)].map((m) => resolve(dirname(INDEX), m[1]!));
      const sources = files.map((file) => readFileSync(file, 'utf8')).join('\n');
      const names = [...cells[3]!.matchAll(/`([A-Za-z_][A-Za-z0-9_]*)`/g)].map((m) => m[1]!);
      expect(names.length, row).toBeGreaterThan(0);
      for (const name of names) {
        const where = /^[A-Z0-9_]+$/.test(name) && !sources.includes(name) ? CONFIG : sources;
        expect(where.includes(name), `${name} is not in ${files.join(', ')}`).toBe(true);
      }
    },
  );
});
