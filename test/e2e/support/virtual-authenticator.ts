import type { CDPSession, Page } from 'playwright-core';

/**
 * A virtual authenticator in `page`'s browser through the DevTools Protocol: a platform authenticator that holds
 * discoverable credentials, verifies the person and answers at once (as if they touched it). Returns the session
 * and its id, to read the credentials it holds (`WebAuthn.getCredentials`).
 */
export async function addVirtualAuthenticator(page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}
