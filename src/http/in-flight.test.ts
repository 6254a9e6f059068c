import { describe, expect, it } from 'vitest';
import { InFlightRequests } from './in-flight.js';

describe('InFlightRequests', () => {
  it('settles at once with none in flight', async () => {
    expect(await new InFlightRequests().settled(10_000)).toBe(0);
  });

  it('settles when the last request finishes, each counted once however often it is finished', async () => {
    const inFlight = new InFlightRequests();
    const a = {};
    const b = {};
    inFlight.started(a);
    inFlight.started(b);
    let settled: number | undefined;
    const waiting = inFlight.settled(10_000).then((n) => (settled = n));
    inFlight.finished(a);
    inFlight.finished(a);
    await Promise.resolve();
    expect(settled).toBeUndefined();
    inFlight.finished(b);
    expect(await waiting).toBe(0);
  });

  it("finishes a route's own work when it settles, rejected or not", async () => {
    const inFlight = new InFlightRequests();
    const request = {};
    inFlight.started(request);
    let fail: (error: Error) => void = () => undefined;
    inFlight.finishedWhen(request, new Promise((_resolve, reject) => (fail = reject)));
    const waiting = inFlight.settled(10_000);
    fail(new Error('the client went away'));
    expect(await waiting).toBe(0);
  });

  it('tells every waiter, not only the last to ask', async () => {
    const inFlight = new InFlightRequests();
    const request = {};
    inFlight.started(request);
    const answers: number[] = [];
    const first = inFlight.settled(10_000).then((n) => answers.push(n));
    const second = inFlight.settled(10_000).then((n) => answers.push(n));
    inFlight.finished(request);
    // Both at once, not the first only when its grace period runs out.
    await Promise.resolve();
    await Promise.resolve();
    expect(answers).toEqual([0, 0]);
    await Promise.all([first, second]);
  });

  it('gives up after the grace period and says how many are unfinished', async () => {
    const inFlight = new InFlightRequests();
    inFlight.started({});
    expect(await inFlight.settled(20)).toBe(1);
  });
});
