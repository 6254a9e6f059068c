import { describe, expect, it } from 'vitest';
import { signInDestination } from './redirect';

describe('where the sign-in page sends the person afterwards', () => {
  it('follows a path of this app inside the app', () => {
    expect(signInDestination('/security?tab=1')).toEqual({ path: '/security?tab=1' });
    expect(signInDestination(undefined)).toEqual({ path: '/' });
    expect(signInDestination(['/a', '/b'])).toEqual({ path: '/' });
  });

  it('sends an absolute address to the server, which checks its host, never straight to it', () => {
    expect(signInDestination('https://grafana.example.com/d?x=1')).toEqual({
      href: '/api/auth/forward/return?url=https%3A%2F%2Fgrafana.example.com%2Fd%3Fx%3D1',
    });
    expect(signInDestination('HTTP://app.example.com/')).toEqual({
      href: '/api/auth/forward/return?url=HTTP%3A%2F%2Fapp.example.com%2F',
    });
  });

  it('treats another host in disguise as the start page', () => {
    for (const redirect of ['//evil.com/', '/\\evil.com', 'javascript:alert(1)', 'evil.com', 'ftp://example.com/'])
      expect(signInDestination(redirect), redirect).toEqual({ path: '/' });
  });
});
