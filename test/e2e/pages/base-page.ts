import type { Locator, Page } from 'playwright-core';

/** What every page shares: the layout's navigation and the form-level messages (web/TESTIDS.md). */
export abstract class BasePage {
  constructor(readonly page: Page) {}

  protected id(testId: string): Locator {
    return this.page.getByTestId(testId);
  }

  get errorMessage(): Locator {
    return this.id('error-message');
  }

  get notice(): Locator {
    return this.id('notice');
  }

  /** A list whose first page is on its way: the table is `aria-busy` and its only row says "Loading…". */
  get loadingTable(): Locator {
    return this.page.locator('table[aria-busy="true"]').filter({ hasText: 'Loading…' });
  }

  /** Opens `path` (under /app/) by address and waits for the element `readyTestId`. */
  async visit(path: string, readyTestId: string): Promise<void> {
    await this.page.goto(path);
    await this.id(readyTestId).waitFor();
  }

  fieldError(field: string): Locator {
    return this.id(`error-${field}`);
  }

  /** Follows a navigation link of the layout (a client-side route change, no reload). */
  protected async navigate(testId: string): Promise<void> {
    const link = this.id(testId);
    await link.waitFor();
    await link.click();
  }

  /**
   * The data-testid of the element that has the keyboard focus; `#<id>` for one with an id and no test id, else its
   * tag name (`body` when the focus is lost).
   */
  focused(): Promise<string | null | undefined> {
    // Runs in the browser; the test code is compiled without the DOM types.
    return this.page.evaluate(() => {
      const active = (
        globalThis as unknown as {
          document: {
            activeElement: { id: string; tagName: string; getAttribute(name: string): string | null } | null;
          };
        }
      ).document.activeElement;
      if (!active) return null;
      return active.getAttribute('data-testid') ?? (active.id ? `#${active.id}` : active.tagName.toLowerCase());
    });
  }

  /** True when the element that has the focus is inside the first element `selector` matches (or is it). */
  focusIsIn(selector: string): Promise<boolean> {
    // Runs in the browser; the test code is compiled without the DOM types.
    return this.page.evaluate((within) => {
      const active = (globalThis as unknown as { document: { activeElement: { closest(s: string): unknown } | null } })
        .document.activeElement;
      return active?.closest(within) != null;
    }, selector);
  }

  /** True when the page is no wider than the window (nothing to scroll sideways). */
  fitsWidth(): Promise<boolean> {
    return this.page.evaluate(() => {
      const browser = globalThis as unknown as {
        document: { documentElement: { scrollWidth: number } };
        innerWidth: number;
      };
      return browser.document.documentElement.scrollWidth <= browser.innerWidth;
    });
  }

  /** The page's width against the window's, and the elements that reach past the window's right edge. */
  overflow(): Promise<{ scrollWidth: number; innerWidth: number; wide: string[] }> {
    return this.page.evaluate(() => {
      interface El {
        tagName: string;
        className: unknown;
        getAttribute(name: string): string | null;
        getBoundingClientRect(): { right: number };
      }
      const browser = globalThis as unknown as {
        document: { documentElement: { scrollWidth: number }; querySelectorAll(selector: string): Iterable<El> };
        innerWidth: number;
      };
      const wide = [...browser.document.querySelectorAll('body *')]
        .filter((el) => el.getBoundingClientRect().right > browser.innerWidth + 0.5)
        .map((el) => {
          const testId = el.getAttribute('data-testid');
          const right = Math.round(el.getBoundingClientRect().right);
          return `${el.tagName.toLowerCase()}${testId ? `[data-testid=${testId}]` : ''}.${String(el.className)} (right ${right})`;
        });
      return {
        scrollWidth: browser.document.documentElement.scrollWidth,
        innerWidth: browser.innerWidth,
        wide: wide.slice(0, 10),
      };
    });
  }

  /**
   * The visible controls (buttons, links, fields, menus) inside `<main>` that reach past the window's left or right
   * edge: a table can push its buttons off-screen inside a scrolling box even when the page itself does not scroll.
   */
  controlsOutsideWindow(): Promise<string[]> {
    return this.page.evaluate(() => {
      interface El {
        tagName: string;
        textContent: string | null;
        getAttribute(name: string): string | null;
        getClientRects(): { length: number };
        getBoundingClientRect(): { left: number; right: number; width: number };
      }
      const browser = globalThis as unknown as {
        document: { querySelectorAll(selector: string): Iterable<El> };
        innerWidth: number;
      };
      return [...browser.document.querySelectorAll('main button, main a, main input, main select, main textarea')]
        .filter((el) => el.getClientRects().length > 0 && el.getBoundingClientRect().width > 0)
        .filter((el) => {
          const { left, right } = el.getBoundingClientRect();
          return left < -0.5 || right > browser.innerWidth + 0.5;
        })
        .map((el) => {
          const { left, right } = el.getBoundingClientRect();
          const name = el.getAttribute('data-testid') ?? el.textContent?.trim() ?? '';
          return `${el.tagName.toLowerCase()} "${name}" (${Math.round(left)}–${Math.round(right)} px)`;
        });
    });
  }

  /** Signs out with the layout's button and waits until the signed-out navigation shows. */
  async signOut(): Promise<void> {
    await this.navigate('nav-signout');
    await this.id('nav-login').waitFor();
  }
}
