import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';
import type { Tx } from '../database/tx';
import { Prisma, type Role, type User } from '../generated/prisma/client';
import { normalizeEmail } from './email';

/** The parts of a user that never change through this API: what GET /auth/me caches. */
export type Profile = Pick<User, 'id' | 'email' | 'name' | 'createdAt' | 'emailVerified'>;

export interface NewUser {
  email: string;
  /** Null: an account made at another provider, without a password (src/auth/oidc). */
  passwordHash: string | null;
  name: string | null;
  role?: Role;
  /** Admins made by ADMIN_EMAIL or admin:create count as verified. */
  emailVerified?: boolean;
}

export interface UserPageQuery {
  /** Part of the email, any case. */
  emailContains?: string;
  /** Users created before this one (keyset pagination). */
  after?: { id: string; createdAt: Date };
  take: number;
}

export interface StoredEmail {
  id: string;
  email: string;
}

/** Prisma's `contains` becomes ILIKE '%…%' without escaping: `_` and `%` must match themselves. */
const likeLiteral = (text: string) => text.replace(/[\\%_]/g, '\\$&');

/** P2002: the email is someone's already. */
export const isEmailTaken = (error: unknown) => error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';

/**
 * Every query of `users`. Emails go in and out through `normalizeEmail` (users/email.ts):
 * one spelling per address for lookup and storage alike.
 */
@Injectable()
export class UsersRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Runs `work` in one transaction (for changes that span this table and the audit log). */
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.prisma.$transaction(work);
  }

  findByEmail(email: string): Promise<User | null> {
    return this.prisma.user.findUnique({ where: { email: normalizeEmail(email) } });
  }

  /** The user as `tx` sees it. */
  findById(tx: Tx, id: string): Promise<User | null> {
    return tx.user.findUnique({ where: { id } });
  }

  /**
   * The user as it is now, its row locked (FOR SHARE) until the transaction ends: a
   * concurrent password change, reset, disabling or logout-all (each an UPDATE of the row)
   * waits for this transaction, or this read waits for it and sees its result. Sign-ins do
   * not wait on each other.
   */
  async lockForSignIn(tx: Tx, id: string): Promise<User | null> {
    await tx.$executeRaw`SELECT 1 FROM users WHERE id = ${id}::uuid FOR SHARE`;
    return tx.user.findUnique({ where: { id } });
  }

  profile(id: string): Promise<Profile | null> {
    return this.prisma.user.findUnique({ where: { id }, select: { id: true, email: true, name: true, createdAt: true, emailVerified: true } });
  }

  /** Throws P2002 (see `isEmailTaken`) when the email is taken. */
  create(tx: Tx, user: NewUser): Promise<User> {
    return tx.user.create({ data: { ...user, email: normalizeEmail(user.email) } });
  }

  /** Undefined for an unknown user, and for an account without a password (made at another provider). */
  async passwordHashOf(id: string): Promise<string | undefined> {
    return (await this.prisma.user.findUnique({ where: { id }, select: { passwordHash: true } }))?.passwordHash ?? undefined;
  }

  /** Compare-and-set: replaces the hash only if it is still `expected`. Whether it did. */
  async replacePasswordHash(tx: Tx, id: string, expected: string, passwordHash: string): Promise<boolean> {
    const { count } = await tx.user.updateMany({ where: { id, passwordHash: expected }, data: { passwordHash } });
    return count === 1;
  }

  /** A password set through a reset link, which also proved the mailbox. */
  async resetPassword(tx: Tx, id: string, passwordHash: string): Promise<void> {
    await tx.user.update({ where: { id }, data: { passwordHash, emailVerified: true } });
  }

  /** A confirmed email change: the new address, proven by its link. Throws P2002 (see `isEmailTaken`) when it is taken. */
  async changeEmail(tx: Tx, id: string, email: string): Promise<void> {
    await tx.user.update({ where: { id }, data: { email: normalizeEmail(email), emailVerified: true } });
  }

  /** Whether an account holds `email` (any spelling), as `tx` sees it. */
  async emailTaken(tx: Tx, email: string): Promise<boolean> {
    return (await tx.user.count({ where: { email: normalizeEmail(email) } })) > 0;
  }

  /**
   * The account to delete, its row locked (FOR UPDATE) to the end of `tx`, with the ids of
   * the other enabled admins, their rows locked too: two deletions (or a deletion and a
   * demotion) of the last two admins run one after the other, and the second sees the
   * first. Null when there is no such user.
   */
  async lockForDeletion(tx: Tx, id: string): Promise<{ user: Pick<User, 'id' | 'email' | 'role'>; otherAdmins: number } | null> {
    const [user] = await tx.$queryRaw<Pick<User, 'id' | 'email' | 'role'>[]>`
      SELECT id::text AS id, email, role::text AS role FROM users WHERE id = ${id}::uuid FOR UPDATE`;
    if (!user) return null;
    if (user.role !== 'ADMIN') return { user, otherAdmins: 0 };
    const admins = await tx.$queryRaw<{ id: string }[]>`
      SELECT id::text AS id FROM users WHERE role = 'ADMIN' AND NOT disabled AND id <> ${id}::uuid ORDER BY id FOR UPDATE`;
    return { user, otherAdmins: admins.length };
  }

  /**
   * Deletes the account. What belongs to it goes with it (ON DELETE CASCADE: sessions and
   * their rotated refresh tokens, link tokens, second factors, pending sign-ins, passkeys,
   * linked identities); invitations it sent keep existing without it (SET NULL).
   */
  async delete(tx: Tx, id: string): Promise<void> {
    await tx.user.delete({ where: { id } });
  }

  async markEmailVerified(tx: Tx, id: string): Promise<void> {
    await tx.user.update({ where: { id }, data: { emailVerified: true } });
  }

  /** refreshTokenVersion + 1: every access token issued before is superseded. Returns the new version. */
  async bumpTokenVersion(tx: Tx, id: string): Promise<number> {
    const { refreshTokenVersion } = await tx.user.update({
      where: { id },
      data: { refreshTokenVersion: { increment: 1 } },
      select: { refreshTokenVersion: true },
    });
    return refreshTokenVersion;
  }

  /**
   * The user's role and flag under a row lock held to the end of `tx`: concurrent access
   * changes to one user run one after the other. Null when there is no such user.
   */
  async lockAccess(tx: Tx, id: string): Promise<{ role: Role; disabled: boolean } | null> {
    const [user] = await tx.$queryRaw<{ role: Role; disabled: boolean }[]>`
      SELECT role::text AS role, disabled FROM users WHERE id = ${id}::uuid FOR UPDATE`;
    return user ?? null;
  }

  setAccess(tx: Tx, id: string, access: { role?: Role; disabled?: boolean }): Promise<User> {
    return tx.user.update({ where: { id }, data: access });
  }

  /** Makes an existing account an enabled admin. */
  promote(tx: Tx, id: string): Promise<User> {
    return tx.user.update({ where: { id }, data: { role: 'ADMIN', disabled: false, emailVerified: true } });
  }

  async exists(id: string): Promise<boolean> {
    return (await this.prisma.user.count({ where: { id } })) > 0;
  }

  createdAtOf(id: string): Promise<{ id: string; createdAt: Date } | null> {
    return this.prisma.user.findUnique({ where: { id }, select: { id: true, createdAt: true } });
  }

  /** Newest first by (createdAt, id): a total order, so a page boundary never skips or repeats a user. */
  page({ emailContains, after, take }: UserPageQuery): Promise<User[]> {
    const where: Prisma.UserWhereInput[] = [];
    if (emailContains) where.push({ email: { contains: likeLiteral(emailContains), mode: 'insensitive' } });
    if (after) where.push({ OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] });
    return this.prisma.user.findMany({ where: { AND: where }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take });
  }

  /**
   * The rows whose email may not be in today's normal form (see email-respelling.ts): any
   * with something but printable ASCII, an upper-case ASCII letter or surrounding spaces.
   * A sequential scan, once per start.
   */
  emailsPossiblyNotNormal(): Promise<StoredEmail[]> {
    return this.prisma.$queryRaw`
      SELECT id::text AS id, email FROM users WHERE email <> lower(email) OR email ~ ${'[^ -~]'} OR email <> btrim(email)`;
  }

  /** The account's email, read in `tx` (a notice mailed with the change); null when it no longer exists. */
  async emailOf(tx: Tx, id: string): Promise<string | null> {
    return (await tx.user.findUnique({ where: { id }, select: { email: true } }))?.email ?? null;
  }

  /** id → email of the accounts among `ids` (one that no longer exists is absent). */
  async emailsOf(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.prisma.user.findMany({ where: { id: { in: ids } }, select: { id: true, email: true } });
    return new Map(rows.map((row) => [row.id, row.email]));
  }

  /** email → id of the accounts that hold one of `emails` (stored spelling, exact). */
  async idsByEmail(emails: string[]): Promise<Map<string, string>> {
    const ids = new Map<string, string>();
    // In slices: a query has at most 65,535 parameters.
    for (let i = 0; i < emails.length; i += 1000) {
      const rows = await this.prisma.user.findMany({ where: { email: { in: emails.slice(i, i + 1000) } }, select: { id: true, email: true } });
      for (const row of rows) ids.set(row.email, row.id);
    }
    return ids;
  }

  /** Changes a stored spelling if it is still `from`; throws P2002 when `to` is taken. Whether it changed. */
  async respell(id: string, from: string, to: string): Promise<boolean> {
    const { count } = await this.prisma.user.updateMany({ where: { id, email: from }, data: { email: to } });
    return count === 1;
  }
}
