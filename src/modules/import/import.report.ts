import type { ImportSummary, SkipList } from './import.summary.js';

const number = new Intl.NumberFormat('en-US');

function skipLines(skipped: SkipList): string[] {
  const lines: string[] = [];
  for (const [reason, { count, examples }] of skipped.reasons) {
    const more = count > examples.length ? `, and ${number.format(count - examples.length)} more` : '';
    lines.push(`  skipped ${number.format(count)}: ${reason}: ${examples.join(', ')}${more}`);
  }
  return lines;
}

/** The summary the CLI prints at the end of `twofold import` (the same for a dry run). */
export function formatImportSummary(summary: ImportSummary): string {
  const { users, products } = summary;
  const lines: string[] = [];
  lines.push(`Source: ${summary.source} (${summary.kind}).`);
  if (summary.dryRun) lines.push('Dry run: nothing was written. The import would do this:');
  lines.push(
    `Users: ${number.format(users.imported)} imported (${number.format(users.totp)} with their authenticator app, ${number.format(users.emailCodes)} with emailed codes), ` +
      `${number.format(users.updated)} updated, ${number.format(users.unchanged)} already up to date, ${number.format(summary.skippedUsers.total)} skipped.`,
  );
  lines.push(...skipLines(summary.skippedUsers));
  if (summary.rolesMapped.size > 0) {
    lines.push(
      `  roles Twofold does not have were imported as "user": ${[...summary.rolesMapped].map(([role, n]) => `${role} (${number.format(n)})`).join(', ')}`,
    );
  }
  if (products.read > 0 || summary.skippedProducts.total > 0) {
    lines.push(
      `Products: ${number.format(products.imported)} imported, ${number.format(products.updated)} updated, ` +
        `${number.format(products.unchanged)} already imported, ${number.format(summary.skippedProducts.total)} skipped.`,
    );
    lines.push(...skipLines(summary.skippedProducts));
  }
  for (const note of summary.notes) lines.push(`Note: ${note}`);
  const seconds = summary.elapsedMs / 1000;
  const rate = seconds > 0 ? `${number.format(Math.round(users.read / seconds))} users/s, ` : '';
  lines.push(`Done in ${seconds.toFixed(1)} s (${rate}peak memory ${summary.peakMemoryMiB} MiB).`);
  return lines.join('\n');
}

/** One progress line for large sources, on standard error. */
export function formatProgress(progress: { users: number; products: number }, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? Math.round((progress.users / elapsedMs) * 1000) : 0;
  const products = progress.products > 0 ? `, ${number.format(progress.products)} products` : '';
  return `… ${number.format(progress.users)} users read${products} (${number.format(rate)} users/s)`;
}
