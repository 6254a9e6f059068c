/**
 * Runs tasks with the same key one after another (in this process); different keys run in
 * parallel. Used so that concurrent sign-ins to one account are checked in turn.
 */
export interface KeyedMutex {
  /** `task` learns whether it had to wait behind another task with the key (what it read before may be stale). */
  run<T>(key: number | string, task: (waited: boolean) => Promise<T>): Promise<T>;
}

export function createKeyedMutex(): KeyedMutex {
  const tails = new Map<number | string, Promise<void>>();
  return {
    async run(key, task) {
      const waiting = tails.get(key);
      const previous = waiting ?? Promise.resolve();
      let release!: () => void;
      const done = new Promise<void>((resolve) => {
        release = resolve;
      });
      const tail = previous.then(() => done);
      tails.set(key, tail);
      await previous;
      try {
        return await task(waiting !== undefined);
      } finally {
        release();
        if (tails.get(key) === tail) tails.delete(key);
      }
    },
  };
}
