import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Every relative link in README.md and docs/ leads somewhere: the file exists inside the
 * repository, and an `#anchor` names a heading of the target. Pages moved between files
 * (the README became a landing page) must not leave dead links behind.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function markdownFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...markdownFiles(path));
    else if (name.endsWith('.md')) out.push(path);
  }
  return out;
}

/** Text outside fenced code blocks and inline code spans: links are not links there. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's heading anchors: lower-case, punctuation except '-' and '_' dropped, spaces to '-', repeats numbered. */
function headingSlugs(markdown: string): Set<string> {
  const slugs = new Set<string>();
  const seen = new Map<string, number>();
  const withoutFences = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const match of withoutFences.matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const text = match[1]!
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link in a heading counts by its text
      .replace(/<[^>]+>/g, '');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    slugs.add(count === 0 ? base : `${base}-${count}`);
  }
  return slugs;
}

interface Link {
  file: string;
  target: string;
}

function relativeLinks(file: string): Link[] {
  const links: Link[] = [];
  for (const match of prose(readFileSync(file, 'utf8')).matchAll(
    /!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g,
  )) {
    const target = match[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, …
    links.push({ file, target });
  }
  return links;
}

const files = [join(ROOT, 'README.md'), ...markdownFiles(join(ROOT, 'docs'))];

describe('links in README.md and docs/', () => {
  it('finds the pages and their links', () => {
    expect(files.length).toBeGreaterThan(5);
    expect(files.flatMap(relativeLinks).length).toBeGreaterThan(20);
  });

  it('understands GitHub heading anchors', () => {
    expect(
      headingSlugs("## What each app's users do\n## Limits and defaults\n# Foo\n# Foo\n## `npm start` (SQLite)"),
    ).toEqual(new Set(['what-each-apps-users-do', 'limits-and-defaults', 'foo', 'foo-1', 'npm-start-sqlite']));
  });

  it.each(files.map((file) => [relative(ROOT, file), file]))('%s: every relative link resolves', (_name, file) => {
    const problems: string[] = [];
    for (const { target } of relativeLinks(file)) {
      const [pathPart = '', anchor] = target.split('#', 2) as [string, string | undefined];
      const path = decodeURIComponent(pathPart);
      if (path.startsWith('/')) {
        problems.push(`${target}: absolute path`);
        continue;
      }
      const resolved = path === '' ? file : resolve(dirname(file), path);
      const inside = relative(ROOT, resolved);
      if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
        problems.push(`${target}: outside the repository`);
        continue;
      }
      if (!existsSync(resolved)) {
        problems.push(`${target}: no such file`);
        continue;
      }
      if (anchor !== undefined) {
        if (!resolved.endsWith('.md')) {
          problems.push(`${target}: an anchor into a file that is not Markdown`);
          continue;
        }
        if (!headingSlugs(readFileSync(resolved, 'utf8')).has(anchor))
          problems.push(`${target}: no heading "#${anchor}" in ${relative(ROOT, resolved)}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
