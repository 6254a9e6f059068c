import { describe, expect, it } from 'vitest';
import { createKeyedMutex } from './keyed-mutex.js';

describe('keyed mutex', () => {
  it('runs tasks of one key one at a time, in order, and other keys alongside', async () => {
    const mutex = createKeyedMutex();
    const log: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const task = (name: string) => async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      log.push(`start ${name}`);
      await new Promise((resolve) => setImmediate(resolve));
      log.push(`end ${name}`);
      running--;
      return name;
    };
    const results = await Promise.all([mutex.run(1, task('a')), mutex.run(1, task('b')), mutex.run(1, task('c'))]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(maxRunning).toBe(1);

    let other = 0;
    await Promise.all([
      mutex.run(2, async () => {
        other++;
        await new Promise((r) => setImmediate(r));
      }),
      mutex.run(3, async () => {
        other++;
      }),
    ]);
    expect(other).toBe(2);
  });

  it('keeps going after a task fails', async () => {
    const mutex = createKeyedMutex();
    await expect(
      mutex.run('k', async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await expect(mutex.run('k', async () => 'ok')).resolves.toBe('ok');
  });
});
