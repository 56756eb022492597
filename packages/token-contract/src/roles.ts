/**
 * A user's roles, as access tokens carry them (`role`) and the API shows them. The
 * database's `Role` enum (prisma/schema.prisma) must hold exactly these: the server
 * refuses to compile otherwise (src/auth/roles.ts).
 */
export const ROLES = ['USER', 'ADMIN'] as const;

export type Role = (typeof ROLES)[number];

export const isRole = (value: unknown): value is Role => (ROLES as readonly unknown[]).includes(value);
