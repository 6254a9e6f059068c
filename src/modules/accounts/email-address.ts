/**
 * The one rule for comparing email addresses, used wherever an address is looked up or stored
 * (registration, sign-in by email, forgotten password, verification resend, import, admin search,
 * the per-address mail quota).
 *
 * Comparison: NFKC, then trimmed, then lower-cased (JavaScript's full Unicode case mapping): the
 * preparation of RFC 8265 (PRECIS) §3.3 "UsernameCaseMapped" (width mapping, case mapping,
 * normalisation), with NFKC in place of width mapping + NFC (RFC 8264 §5.2.5).
 *
 * Compatibility spellings are not another way to write an address: an address that NFKC would
 * change (`Kate@example.com` written with the Kelvin sign U+212A, full-width `ｋate@…`) is refused
 * at registration, and at sign-in or a password reset it names no account at all. Otherwise a
 * look-alike typed by someone else would open (or mail) the plain address's account: lower-casing
 * alone already turns the Kelvin sign into `k` (UTS #39 §4 confusable detection; RFC 8265 §3.3.1
 * requires the input to survive the preparation unchanged before it is compared).
 *
 * Mixed scripts are refused at registration (and import): UTS #39 §5.2 "Highly Restrictive", per
 * part (the local part, and each domain label, as browsers judge IDN labels): all characters in
 * one script, except Common/Inherited ones (digits, `.`, `-`, `_`, `+`) and Latin combined with
 * Han + Hiragana + Katakana, Han + Bopomofo or Han + Hangul. So `kаte@example.com` with a Cyrillic
 * `а` is refused, while `катя@example.com` (Cyrillic local part, Latin domain) is accepted.
 *
 * Existing rows: `email_normalized` was `trim().toLowerCase()`, which equals this form for every
 * address that NFKC leaves unchanged (all ASCII addresses); migration 0008 re-normalises the rest.
 */
export function canonicalEmail(email: string): string {
  return email.normalize('NFKC').trim().toLowerCase();
}

/** The key to look an address up by, or null when it is written with compatibility characters (it names no account). */
export function emailLookupKey(email: string): string | null {
  return email.normalize('NFKC') === email ? canonicalEmail(email) : null;
}

// Scripts with their own Unicode property; a letter in none of them counts as script "Other".
const SCRIPTS = [
  'Latin',
  'Greek',
  'Cyrillic',
  'Armenian',
  'Hebrew',
  'Arabic',
  'Syriac',
  'Thaana',
  'Devanagari',
  'Bengali',
  'Gurmukhi',
  'Gujarati',
  'Oriya',
  'Tamil',
  'Telugu',
  'Kannada',
  'Malayalam',
  'Sinhala',
  'Thai',
  'Lao',
  'Tibetan',
  'Myanmar',
  'Georgian',
  'Hangul',
  'Ethiopic',
  'Cherokee',
  'Canadian_Aboriginal',
  'Ogham',
  'Runic',
  'Khmer',
  'Mongolian',
  'Hiragana',
  'Katakana',
  'Bopomofo',
  'Han',
  'Yi',
  'Coptic',
  'Tifinagh',
  'Nko',
  'Vai',
  'Javanese',
  'Balinese',
  'Sundanese',
  'Tagalog',
  'Glagolitic',
  'Gothic',
  'Deseret',
  'Shavian',
  'Osmanya',
  'Adlam',
  'Lisu',
  'Bamum',
  'Cham',
  'Tai_Le',
  'Buginese',
] as const;
const SCRIPT_PATTERNS = SCRIPTS.map((name) => [name, new RegExp(`^\\p{Script=${name}}$`, 'u')] as const);
const NEUTRAL = /^[\p{Script=Common}\p{Script=Inherited}]$/u;
// UTS #39 §5.2 Highly Restrictive: the combinations allowed besides a single script.
const ALLOWED_COMBINATIONS: ReadonlyArray<ReadonlySet<string>> = [
  new Set(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set(['Latin', 'Han', 'Bopomofo']),
  new Set(['Latin', 'Han', 'Hangul']),
];

function scriptOf(char: string): string | null {
  if (NEUTRAL.test(char)) return null;
  for (const [name, pattern] of SCRIPT_PATTERNS) if (pattern.test(char)) return name;
  return 'Other';
}

/** True when `part` uses one script, or one of the combinations UTS #39 "Highly Restrictive" allows. */
export function isSingleScript(part: string): boolean {
  const scripts = new Set<string>();
  for (const char of part) {
    const script = scriptOf(char);
    if (script) scripts.add(script);
  }
  if (scripts.size <= 1) return true;
  return ALLOWED_COMBINATIONS.some((allowed) => [...scripts].every((script) => allowed.has(script)));
}

/** Why an address is refused for a new account, or null. Judged on its NFKC form (what is compared). */
export function emailProblem(email: string): string | null {
  if (email.normalize('NFKC') !== email)
    return 'contains look-alike compatibility characters (such as full-width letters or the Kelvin sign); type it with ordinary characters';
  const canonical = canonicalEmail(email);
  // Invisible format characters (zero-width joiners, bidi controls) make two different addresses look alike.
  if (/[\p{Cc}\p{Cf}]/u.test(canonical)) return 'must not contain invisible or control characters';
  const at = canonical.lastIndexOf('@');
  const parts = [canonical.slice(0, at), ...canonical.slice(at + 1).split('.')];
  if (!parts.every(isSingleScript))
    return 'mixes letters of different scripts (for example Latin and Cyrillic look-alikes); write it in one script';
  return null;
}
