import type { Locator } from 'playwright-core';
import { BasePage } from './base-page.js';

/** `/docs`: Swagger UI over the server's OpenAPI document (served by the API, outside the web UI). */
export class ApiDocsPage extends BasePage {
  async open(): Promise<void> {
    await this.page.goto('/docs');
    await this.operations.first().waitFor();
  }

  /** The title of the document as Swagger UI shows it. */
  get heading(): Locator {
    return this.page.locator('.swagger-ui .info .title');
  }

  /** One block per documented operation. */
  get operations(): Locator {
    return this.page.locator('.swagger-ui .opblock');
  }
}
