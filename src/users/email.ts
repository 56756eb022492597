/**
 * Emails are compared and stored in one spelling: Unicode NFC (so the composed and
 * decomposed forms of `josé@…`, identical on screen, are one account), trimmed and
 * lower-cased: `Ada@Example.com ` is `ada@example.com`.
 */
export const normalizeEmail = (email: string): string => email.normalize('NFC').trim().toLowerCase();
