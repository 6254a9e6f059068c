/** A rough, live hint only; the server has the final say (8-128 characters, not a common password). */
export function passwordStrength(password: string): { score: number; label: string } {
  if (!password) return { score: 0, label: 'Use at least 8 characters.' };
  if (password.length < 8) return { score: 0, label: `Too short: ${8 - password.length} more character${password.length === 7 ? '' : 's'} needed.` };
  let score = 1;
  if (password.length >= 12) score++;
  if (password.length >= 16) score++;
  const kinds = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  if (kinds >= 3) score++;
  if (/^(.)\1+$/.test(password) || /^(?:0?123456789?|password|qwerty)/i.test(password)) score = 1;
  const labels = ['', 'Weak: add length or mix in digits and symbols.', 'Fair.', 'Good.', 'Strong.'];
  score = Math.min(score, 4);
  return { score, label: `Strength: ${labels[score] ?? ''}` };
}
