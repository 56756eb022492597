/** Emails are compared and stored trimmed and lower-cased: `Ada@Example.com ` is `ada@example.com`. */
export const normalizeEmail = (email: string): string => email.trim().toLowerCase();
