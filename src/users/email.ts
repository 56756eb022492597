/**
 * Emails: the one spelling they are stored, looked up and throttled under
 * (`normalizeEmail`), and the rules a spelling must meet to be registered or used to log
 * in (`emailProblem`).
 *
 * What these rules leave possible, knowingly:
 * - Whole-script confusables: a label written entirely in one script that looks like a
 *   label of another (Cyrillic `асе` for Latin `ace`, Greek `ορο` for `opo`) is accepted:
 *   refusing it would refuse ordinary Cyrillic or Greek addresses. A view that must tell
 *   them apart can mark every label outside ASCII.
 * - Within one script: look-alikes such as `rn`/`m`, `l`/`1`/`I`, and a combining mark
 *   that renders invisibly on its base (`i` + U+0307 COMBINING DOT ABOVE).
 * - Punycode (`xn--…`) domain labels are ASCII and pass as written; a mail client that
 *   displays them decoded shows whatever they encode.
 * - Right-to-left labels are accepted whole; next to left-to-right labels the address
 *   can display in an unexpected order (the IDNA Bidi rule, RFC 5893, is not applied).
 */

/**
 * Rounds of NFKC + lower-case + trim before the spelling stops changing. Two suffice for
 * every code point and every letter+mark pair (lower-casing `H`+U+0331 gives `h`+U+0331,
 * which only a second NFKC composes to U+1E96); the property test in email.spec.ts holds
 * the claim, and the bound keeps a hostile string from looping.
 */
const MAX_ROUNDS = 8;

/**
 * The spelling an email is stored, looked up and throttled under: NFKC (canonical
 * equivalents are one account, and compatibility variants such as fullwidth `ａｌｉｃｅ`
 * fold to `alice`), lower-cased (locale-independent) and trimmed, repeated until it no
 * longer changes. A fixed point, so applying it twice is applying it once: every caller
 * (DTO, service, throttler) gets the same key from any spelling of the same account.
 */
export function normalizeEmail(email: string): string {
  let current = email;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const next = current.normalize('NFKC').toLowerCase().trim();
    if (next === current) return current;
    current = next;
  }
  return current;
}

export const EMAIL_PROBLEMS = {
  invisible: 'email must not contain invisible, control or formatting characters',
  compatibility: 'email must not contain fullwidth or other look-alike forms of ASCII characters',
  symbol: 'email must not contain non-ASCII symbols, punctuation or modifier letters',
  rareScript: 'email must not contain letters of historic or limited-use scripts',
  leadingMark: 'email must not start a part with a combining mark',
  mixedScripts: 'email must not mix scripts within its local part or a domain label',
} as const;

/**
 * Controls (Cc), format characters (Cf: zero-width space, bidi overrides…), default
 * ignorables (Hangul fillers, variation selectors, U+034F…), every space but U+0020,
 * and unpaired surrogates: all render as nothing, or as something else.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Default_Ignorable_Code_Point}\p{Zl}\p{Zp}\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/u;
const ASCII = /^\p{ASCII}*$/u;
/** Beyond ASCII, an email may have letters, marks and decimal digits only… */
const WORD_CHAR = /^[\p{L}\p{M}\p{Nd}]$/u;
/**
 * …and no Common-script letter but those of Chinese and Japanese text (ー, the kana
 * repeat marks, 〆, Bopomofo tones): the rest are modifier letters imitating punctuation
 * (ʼ ˈ ː) or the Arabic tatweel, which only stretches a word.
 */
const COMMON_LETTER = /^(?![\p{M}\p{Script_Extensions=Hira}\p{Script_Extensions=Kana}\p{Script_Extensions=Hani}\p{Script_Extensions=Bopo}])\p{Script=Common}$/u;

/**
 * UAX #31 "Recommended" scripts (in modern, customary use); the others (Cherokee,
 * Runic, Gothic…) are Limited Use or Excluded, and several are built of Latin look-alikes.
 */
const RECOMMENDED_SCRIPTS = [
  'Arab',
  'Armn',
  'Beng',
  'Bopo',
  'Cyrl',
  'Deva',
  'Ethi',
  'Geor',
  'Grek',
  'Gujr',
  'Guru',
  'Hang',
  'Hani',
  'Hebr',
  'Hira',
  'Kana',
  'Khmr',
  'Knda',
  'Laoo',
  'Latn',
  'Mlym',
  'Mymr',
  'Orya',
  'Sinh',
  'Taml',
  'Telu',
  'Thaa',
  'Thai',
  'Tibt',
];
const scriptClass = (scripts: string[]) => scripts.map((s) => `\\p{Script_Extensions=${s}}`).join('');
const RECOMMENDED = new RegExp(`^[\\p{Script_Extensions=Inherited}${scriptClass(RECOMMENDED_SCRIPTS)}]$`, 'u');

/**
 * UTS #39 "highly restrictive": every label in one script, Common and Inherited
 * characters going with any, or in Latin with one of the CJK combinations that writing
 * Japanese, Chinese or Korean needs (Han with Hiragana and Katakana, with Bopomofo, with
 * Hangul). Script_Extensions, so that a character shared by a few scripts (ー, used by
 * Hiragana and Katakana) counts as each of them.
 */
const SCRIPT_SETS = [
  ...RECOMMENDED_SCRIPTS.map((script) => [script]),
  ['Latn', 'Hani', 'Hira', 'Kana'],
  ['Latn', 'Hani', 'Bopo'],
  ['Latn', 'Hani', 'Hang'],
].map((set) => new RegExp(`^[\\p{Script_Extensions=Common}\\p{Script_Extensions=Inherited}${scriptClass(set)}]*$`, 'u'));

/**
 * Why `email` may not be registered or used to log in, or undefined if it may. Judges
 * the spelling as typed (surrounding whitespace aside), before `normalizeEmail`:
 * fullwidth and other compatibility forms would be folded away by it, and are refused
 * instead, so that nobody registers one address while seeing another. Whether it is an
 * email address at all is IsEmail's business. An accepted spelling stays accepted once
 * normalised (property-tested).
 */
export function emailProblem(email: string): string | undefined {
  const trimmed = email.trim();
  if (INVISIBLE.test(trimmed)) return EMAIL_PROBLEMS.invisible;
  if (ASCII.test(trimmed)) return undefined;
  for (const char of trimmed.normalize('NFC')) {
    // Fullwidth letters, ligatures (ﬁ), math alphanumerics (𝐚), superscripts, ℌ, ſ…
    if (char.charCodeAt(0) >= 0x80 && /\p{ASCII}/u.test(char.normalize('NFKC'))) return EMAIL_PROBLEMS.compatibility;
  }
  // The rest is judged on what will be stored: compatibility forms of other characters
  // (halfwidth katakana, Arabic presentation forms) are folded, not refused.
  const text = trimmed.normalize('NFKC');
  for (const char of text) {
    if (char.charCodeAt(0) < 0x80) continue;
    if (!WORD_CHAR.test(char) || COMMON_LETTER.test(char)) return EMAIL_PROBLEMS.symbol;
    if (!RECOMMENDED.test(char)) return EMAIL_PROBLEMS.rareScript;
  }
  return labelProblem(text);
}

/** The script rules, per label: the local part, and each label of the domain. */
function labelProblem(text: string): string | undefined {
  const at = text.lastIndexOf('@');
  const labels = at < 0 ? [text] : [text.slice(0, at), ...text.slice(at + 1).split('.')];
  for (const label of labels) {
    if (ASCII.test(label)) continue;
    if (/^\p{M}/u.test(label)) return EMAIL_PROBLEMS.leadingMark;
    if (!SCRIPT_SETS.some((set) => set.test(label))) return EMAIL_PROBLEMS.mixedScripts;
  }
  return undefined;
}
