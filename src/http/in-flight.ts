/**
 * The requests a server is still handling, so that shutting down can wait for them. A request is
 * finished when its handler has an answer (onSend), when its answer went out (onResponse), or, for
 * a route that writes its own answer, when that route's work settles (finishedWhen); a client that
 * hangs up does not finish it.
 */
export class InFlightRequests {
  readonly #requests = new Set<object>();
  /** Everyone waiting in settled(), told when the last request finishes. */
  readonly #waiters = new Set<() => void>();

  started(request: object): void {
    this.#requests.add(request);
  }

  finished(request: object): void {
    if (this.#requests.delete(request) && this.#requests.size === 0) for (const idle of this.#waiters) idle();
  }

  /** For a route that writes its own answer (`reply.hijack()`): the request is finished when `work` settles. */
  finishedWhen(request: object, work: Promise<unknown>): void {
    const finish = (): void => this.finished(request);
    work.then(finish, finish);
  }

  /** Resolves once none is left, or after `maxMs` with the number still unfinished. */
  settled(maxMs: number): Promise<number> {
    if (this.#requests.size === 0) return Promise.resolve(0);
    return new Promise((resolve) => {
      const idle = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(idle);
        resolve(0);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(idle);
        resolve(this.#requests.size);
      }, maxMs);
      this.#waiters.add(idle);
    });
  }
}
