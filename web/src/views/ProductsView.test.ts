// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/vue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderAt } from '../testing';
import ProductsView from './ProductsView.vue';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const json = (status: number, body: unknown): Response =>
  new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
const page = (items: unknown[]) => ({ items, total: items.length, limit: 10, offset: 0 });
const compass = { id: 1, name: 'Brass compass', description: '', price: 24.5, quantity: 3 };

describe('ProductsView', () => {
  it('says "Loading…" with aria-busy until the first page arrives, not "No products yet"', async () => {
    let release: (response: Response) => void = () => undefined;
    const held = new Promise<Response>((resolve) => (release = resolve));
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) =>
        url.startsWith('/api/products') ? held : json(401, { error: 'refresh_token_invalid', message: 'x' }),
      ),
    );
    await renderAt(ProductsView, '/products');
    const table = await screen.findByRole('table');
    await waitFor(() => expect(table.getAttribute('aria-busy')).toBe('true'));
    expect(table.textContent).toContain('Loading…');
    expect(table.textContent).not.toContain('No products yet');

    release(json(200, page([])));
    await waitFor(() => expect(table.textContent).toContain('No products yet.'));
    expect(table.hasAttribute('aria-busy')).toBe(false);
  });

  it('asks before deleting with the focus on "Keep it", then gives the focus to the confirmation', async () => {
    const answers = [json(200, page([compass])), json(204, null), json(200, page([]))];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) =>
        url.startsWith('/api/products')
          ? (answers.shift() ?? json(404, { error: 'not_found', message: 'x' }))
          : json(401, { error: 'refresh_token_invalid', message: 'x' }),
      ),
    );
    await renderAt(ProductsView, '/products');
    await fireEvent.click(await screen.findByTestId('product-delete'));
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('product-keep')));
    await fireEvent.click(screen.getByTestId('product-keep'));
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('product-delete')));

    await fireEvent.click(screen.getByTestId('product-delete'));
    await fireEvent.click(await screen.findByTestId('product-confirm-delete'));
    await waitFor(() => expect(screen.getByTestId('notice').textContent).toBe('Deleted Brass compass.'));
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('notice')));
  });
});
