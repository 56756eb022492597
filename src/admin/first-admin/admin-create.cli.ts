/**
 * `npm run admin:create -- --email ada@example.com`: makes that account an admin.
 *
 * - No user has the email: creates an ADMIN with the password from the ADMIN_PASSWORD
 *   environment variable or, on a terminal, typed at a hidden prompt (twice).
 * - A user has it: promotes it to an enabled ADMIN; its password is neither asked nor
 *   changed. This is also the way back in if no admin is left.
 *
 * The password is never a command-line argument: arguments land in shell history and
 * are visible to every local user in `ps`. The email may also come from ADMIN_EMAIL.
 * Works on the database the server uses (DATABASE_URL, or the embedded one in DATA_DIR),
 * migrating it first like the server does. The embedded one only while no server runs on
 * it: the command then exits 1 and says what to do instead (data-dir-lock.ts).
 */
import { parseArgs } from 'node:util';
import { isEmail } from 'class-validator';
import { AuditService } from '../../audit/audit.service';
import { EventBus } from '../../events/event-bus';
import { PasswordService } from '../../auth/passwords/password.service';
import { passwordProblem } from '../../users/password-policy';
import { validateEnv } from '../../config/configuration';
import type { Opener } from '../../database/data-dir-lock';
import { openMigratedDatabase } from '../../database/open-migrated';
import { PrismaService } from '../../database/prisma.service';
import { normalizeEmail } from '../../users/email';
import { UsersRepository } from '../../users/users.repository';
import { promptHidden } from './cli-input';
import { ensureAdmin } from './ensure-admin';

const USAGE = 'Usage: npm run admin:create -- --email <email>   (password: ADMIN_PASSWORD or a prompt)';

const OPENER: Opener = {
  name: 'admin:create',
  instead:
    "use the running server's admin API: an account is created by registering (POST /auth/register), " +
    'and an admin makes it one with PATCH /admin/users/:id and {"role":"ADMIN"}',
};

async function main(): Promise<void> {
  try {
    process.loadEnvFile?.();
  } catch {
    // No .env file: the environment alone configures the command.
  }
  const { values } = parseArgs({ options: { email: { type: 'string' }, password: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) return console.log(USAGE);
  if (values.password !== undefined) {
    throw new Error('Never pass a password as an argument; set ADMIN_PASSWORD or type it at the prompt');
  }
  const email = normalizeEmail(values.email ?? process.env.ADMIN_EMAIL ?? '');
  if (!isEmail(email)) throw new Error(USAGE);

  // ADMIN_* are this command's input, checked here: the server's "both or neither" rule does not apply.
  const config = validateEnv({ ...process.env, ADMIN_EMAIL: undefined, ADMIN_PASSWORD: undefined });
  const { database } = await openMigratedDatabase({ ...config.database, opener: OPENER });
  const prisma = new PrismaService(database);
  try {
    const outcome = await ensureAdmin(new UsersRepository(prisma), new AuditService(prisma, new EventBus(prisma)), {
      email,
      passwordHash: async () => new PasswordService(config.auth.argon2).hash(await readPassword()),
      promote: true,
      via: 'admin:create',
    });
    const said = { created: 'Created admin', admin: 'Already an admin:', promoted: 'Promoted to admin:', 'left-alone': 'Unchanged:' };
    console.log(`${said[outcome]} ${email} (${database.description})`);
  } finally {
    await prisma.$disconnect();
    await database.close();
  }
}

async function readPassword(): Promise<string> {
  let password = process.env.ADMIN_PASSWORD;
  if (password === undefined) {
    if (!process.stdin.isTTY) throw new Error('No terminal to prompt on: set ADMIN_PASSWORD');
    password = await promptHidden('Password: ');
    if ((await promptHidden('Again: ')) !== password) throw new Error('The passwords differ');
  }
  const problem = passwordProblem(password);
  if (problem) {
    throw new Error(`The password ${problem}`);
  }
  return password;
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
