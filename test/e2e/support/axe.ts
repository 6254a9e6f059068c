import { createRequire } from 'node:module';
import path from 'node:path';
import type { Page } from 'playwright-core';

const require = createRequire(import.meta.url);
/** axe-core's browser build, injected into the page under test. */
const AXE_SCRIPT = path.join(path.dirname(require.resolve('axe-core')), 'axe.min.js');

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/**
 * Runs axe-core (WCAG 2.x A and AA rules, and its best practices) on the page as it is now and returns one line
 * per violation of impact `serious` or `critical`: rule id, impact, help text and the selectors of the elements.
 * The page's context must be made with `bypassCSP: true` (the script is added inline).
 */
export async function axeViolations(page: Page): Promise<string[]> {
  const loaded = await page.evaluate(() => typeof (globalThis as { axe?: unknown }).axe !== 'undefined');
  if (!loaded) await page.addScriptTag({ path: AXE_SCRIPT });
  // Runs in the browser; the test code is compiled without the DOM types.
  const violations = await page.evaluate(async () => {
    const browser = globalThis as unknown as {
      document: unknown;
      axe: {
        run(
          context: unknown,
          options: unknown,
        ): Promise<{
          violations: Array<{
            id: string;
            impact: string | null;
            help: string;
            nodes: Array<{ target: unknown[] }>;
          }>;
        }>;
      };
    };
    const result = await browser.axe.run(browser.document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((node) => node.target.map(String).join(' ')),
    }));
  });
  return (violations as Violation[])
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.targets.join(', ')}`);
}
