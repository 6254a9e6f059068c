// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { ApiError } from './client';
import { useAction } from './useAction';

describe('useAction', () => {
  it('is busy while the task runs, then clears the earlier messages on success', async () => {
    const action = useAction();
    action.error.value = 'old';
    action.notice.value = 'old';
    let busyDuring = false;
    const ok = await action.run(async () => {
      busyDuring = action.busy.value;
    });
    expect(ok).toBe(true);
    expect(busyDuring).toBe(true);
    expect(action.busy.value).toBe(false);
    expect(action.error.value).toBeNull();
    expect(action.notice.value).toBeNull();
  });

  it('turns an API error into the sentence and the field errors, and is no longer busy', async () => {
    const action = useAction();
    const ok = await action.run(async () => {
      throw new ApiError('validation_failed', 'x', 400, { password: 'is too common' });
    });
    expect(ok).toBe(false);
    expect(action.busy.value).toBe(false);
    expect(action.error.value).toEqual(expect.any(String));
    expect(action.errors.value).toMatchObject({ password: expect.stringMatching(/too common/i) });
  });
});
