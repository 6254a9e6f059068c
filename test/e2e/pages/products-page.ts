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

  /** What an empty list says. */
  get emptyMessage(): Locator {
    return this.page.getByText('No products yet.');
  }

  get rows(): Locator {
    return this.id('product-row');
  }

  row(name: string): Locator {
    return this.page.locator(`[data-testid="product-row"][data-name="${name.replace(/["\\]/g, '\\$&')}"]`);
  }

  /** Opens the form to add a product, or to edit the row of `name`; waits until it shows. */
  async openForm(name?: string): Promise<void> {
    await (name === undefined ? this.id('product-add') : this.row(name).getByTestId('product-edit')).click();
    await this.id('product-name').waitFor();
  }

  /** Closes the form without saving. */
  async cancelForm(): Promise<void> {
    await this.id('product-cancel').click();
    await this.id('product-name').waitFor({ state: 'detached' });
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
    await this.openForm();
    await this.fillForm(fields);
    await this.row(fields.name).waitFor();
  }

  /** Edits the row of `name`; waits for the row under its (possibly new) name. */
  async edit(name: string, changes: ProductFields): Promise<void> {
    await this.openForm(name);
    await this.fillForm(changes);
    await this.row(changes.name ?? name).waitFor();
  }

  /** "Delete" on the row of `name`: the row asks to confirm. */
  async askDelete(name: string): Promise<void> {
    await this.row(name).getByTestId('product-delete').click();
    await this.row(name).getByTestId('product-confirm-delete').waitFor();
  }

  /** "Keep it": the row of `name` stops asking and offers Delete again. */
  async keepProduct(name: string): Promise<void> {
    await this.row(name).getByTestId('product-keep').click();
    await this.row(name).getByTestId('product-delete').waitFor();
  }

  async delete(name: string): Promise<void> {
    await this.askDelete(name);
    await this.row(name).getByTestId('product-confirm-delete').click();
    await this.row(name).waitFor({ state: 'detached' });
  }

  async search(text: string): Promise<void> {
    await this.id('product-search').fill(text);
  }
}
