import type { Locator } from 'playwright-core';
import { BasePage } from './base-page.js';

export interface ProductFields {
  name?: string;
  description?: string;
  price?: string;
  quantity?: string;
}

export class ProductsPage extends BasePage {
  async open(): Promise<void> {
    await this.navigate('nav-products');
    await this.id('product-search').waitFor();
  }

  get rows(): Locator {
    return this.id('product-row');
  }

  row(name: string): Locator {
    return this.page.locator(`[data-testid="product-row"][data-name="${name.replace(/["\\]/g, '\\$&')}"]`);
  }

  private async fillForm(fields: ProductFields): Promise<void> {
    const inputs: Array<[keyof ProductFields, string]> = [
      ['name', 'product-name'],
      ['description', 'product-description'],
      ['price', 'product-price'],
      ['quantity', 'product-quantity'],
    ];
    await this.id('product-name').waitFor();
    for (const [field, testId] of inputs) {
      const value = fields[field];
      if (value !== undefined) await this.id(testId).fill(value);
    }
    await this.id('product-save').click();
  }

  async add(fields: Required<ProductFields>): Promise<void> {
    await this.id('product-add').click();
    await this.fillForm(fields);
    await this.row(fields.name).waitFor();
  }

  /** Edits the row of `name`; waits for the row under its (possibly new) name. */
  async edit(name: string, changes: ProductFields): Promise<void> {
    await this.row(name).getByTestId('product-edit').click();
    await this.fillForm(changes);
    await this.row(changes.name ?? name).waitFor();
  }

  async delete(name: string): Promise<void> {
    await this.row(name).getByTestId('product-delete').click();
    await this.id('product-confirm-delete').click();
    await this.row(name).waitFor({ state: 'detached' });
  }

  async search(text: string): Promise<void> {
    await this.id('product-search').fill(text);
  }
}
