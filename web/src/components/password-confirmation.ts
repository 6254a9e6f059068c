/** The one message for a confirmation that differs from the new password, on every form that sets one. */
export const PASSWORDS_DIFFER = 'The two passwords do not match.';

/** The field error a form shows instead of sending, or null when the two agree. */
export function confirmationError(password: string, confirmation: string): Record<string, string> | null {
  return password === confirmation ? null : { 'password-confirm': PASSWORDS_DIFFER };
}
