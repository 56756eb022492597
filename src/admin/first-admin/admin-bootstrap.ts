import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AuditService } from '../../audit/audit.service';
import { PasswordService } from '../../auth/passwords/password.service';
import type { AppConfig } from '../../config/configuration';
import { normalizeEmail } from '../../users/email';
import { UsersRepository } from '../../users/users.repository';
import { ensureAdmin } from './ensure-admin';

/**
 * ADMIN_EMAIL + ADMIN_PASSWORD: creates that admin at start when no user has the email.
 * Idempotent, and never a way to take an account over: an existing user keeps its
 * password and role (changing ADMIN_PASSWORD later changes nothing), so whoever can set
 * the environment of one instance cannot silently reset an admin's password or promote
 * an account. `npm run admin:create` is the deliberate way to promote.
 */
@Injectable()
export class AdminBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminBootstrap.name);
  /** The email of the admin this start created, if it did (main.ts names it in its start-up line). */
  created?: string;

  constructor(
    private readonly config: ConfigService<AppConfig, true>,
    private readonly users: UsersRepository,
    private readonly passwords: PasswordService,
    private readonly audit: AuditService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const admin = this.config.get('auth.admin', { infer: true });
    if (!admin) return;
    const outcome = await ensureAdmin(this.users, this.audit, {
      email: admin.email,
      passwordHash: () => this.passwords.hash(admin.password),
      promote: false,
      via: 'ADMIN_EMAIL',
    });
    if (outcome === 'created') {
      this.created = normalizeEmail(admin.email);
      this.logger.log('Created the admin account of ADMIN_EMAIL');
    }
    if (outcome === 'left-alone') {
      this.logger.warn('ADMIN_EMAIL belongs to an account that is not an enabled admin; left unchanged (see npm run admin:create)');
    }
  }
}
