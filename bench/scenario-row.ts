import type { Figures, ScenarioResult } from './report.js';

/** The figures of a side that did not run: a row that says why instead of a number. */
export const NO_FIGURES: Figures = { requestsPerSecond: 0, p50Ms: 0, p99Ms: 0, requests: 0, non2xx: 0, errors: 0 };

/**
 * Runs one scenario. One that cannot run prints why and becomes a row saying so: the rest of the
 * run (minutes of other figures) goes on.
 */
export async function scenario(
  name: string,
  target: string,
  work: () => Promise<ScenarioResult>,
): Promise<ScenarioResult> {
  try {
    return await work();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    console.log(`   ${name} could not run (${reason}); the run continues without it`);
    return { scenario: name, twofold: NO_FIGURES, target, note: `could not run: ${reason}` };
  }
}
