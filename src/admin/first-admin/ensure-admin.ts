import type { AuditService } from '../../audit/audit.service';
import { emailProblem, normalizeEmail } from '../../users/email';
import { isEmailTaken, UsersRepository } from '../../users/users.repository';

/**
 * - `created`: no user had the email; it is now an ADMIN with the given password.
 * - `admin`: it already was an enabled ADMIN; nothing changed.
 * - `promoted`: an existing account became an enabled ADMIN (its password unchanged).
 * - `left-alone`: an existing account that is not an enabled ADMIN, and promotion was not asked for.
 */
export type AdminOutcome = 'created' | 'admin' | 'promoted' | 'left-alone';

export interface EnsureAdminOptions {
  email: string;
  /** Called only when the account has to be created: an existing password is never replaced. */
  passwordHash: () => Promise<string>;
  /** Promote (and enable) an existing account: the CLI does, the ADMIN_EMAIL start-up never does. */
  promote: boolean;
  /** Recorded in the audit events: where the change came from. */
  via: 'ADMIN_EMAIL' | 'admin:create';
}

/** Makes sure `email` is an admin account; shared by the start-up bootstrap and `npm run admin:create`. */
export async function ensureAdmin(users: UsersRepository, audit: AuditService, options: EnsureAdminOptions): Promise<AdminOutcome> {
  const email = normalizeEmail(options.email);
  const problem = emailProblem(email);
  if (problem) throw new Error(`The admin's ${problem}`);
  const existing = await users.findByEmail(email);
  if (existing) {
    if (existing.role === 'ADMIN' && !existing.disabled) return 'admin';
    if (!options.promote) return 'left-alone';
    // Outside the running servers there is no revocation to declare: the new role
    // reaches the user's tokens at their next refresh or login (a late gain of rights is
    // the safe direction); PATCH /admin/users/:id is the way that applies at once.
    const { id, role, disabled } = existing;
    const via = options.via;
    await users.transaction(async (tx) => {
      await users.promote(tx, id);
      if (role !== 'ADMIN') await audit.record(tx, { type: 'user.role_changed', userId: id, data: { from: role, to: 'ADMIN', via } });
      if (disabled) await audit.record(tx, { type: 'user.enabled', userId: id, data: { via } });
    });
    return 'promoted';
  }
  const passwordHash = await options.passwordHash();
  try {
    await users.transaction(async (tx) => {
      const user = await users.create(tx, { email, passwordHash, role: 'ADMIN', name: 'Administrator', emailVerified: true });
      await audit.record(tx, { type: 'user.registered', userId: user.id, data: { role: 'ADMIN', via: options.via } });
    });
    return 'created';
  } catch (error) {
    // Another instance starting at the same moment created it first: decide again.
    if (isEmailTaken(error)) return ensureAdmin(users, audit, options);
    throw error;
  }
}
