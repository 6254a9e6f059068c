import { startAuthentication, type PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/browser';
import type { PasskeyAssertion } from '../stores/session';

/**
 * Asks the browser for an assertion with the server's request options (W3C WebAuthn Level 3 §5.1.4,
 * navigator.credentials.get) and returns it in the JSON form the API takes. Throws what the browser throws
 * (passkey-errors.ts turns it into a sentence).
 */
export async function passkeyAssertion(options: unknown): Promise<PasskeyAssertion> {
  const credential = await startAuthentication({
    optionsJSON: options as PublicKeyCredentialRequestOptionsJSON,
  });
  // The extension outputs are an open object on the wire (the server's schema says so).
  return { ...credential, clientExtensionResults: { ...credential.clientExtensionResults } };
}
