/**
 * `npm run keys:rotate`: what POST /admin/keys/rotate does, from the command line: a new
 * signing key, published at once, that signs from now + SIGNING_KEY_LEAD. Nobody is
 * logged out (see key-rotation.ts).
 *
 * Works on the database the server uses (DATABASE_URL, or the embedded one in DATA_DIR),
 * migrating it first like the server does, with the server's secret (AUTH_SECRET, or the
 * development secret in DATA_DIR) to seal the new key. On PostgreSQL beside running
 * servers: they hear the change (NOTIFY) and publish the key at once. The embedded
 * database only while no server runs on it: the command then exits 1 and says what to
 * do instead (data-dir-lock.ts).
 */
import { parseArgs } from 'node:util';
import { AuditService } from '../../audit/audit.service';
import { EventBus } from '../../events/event-bus';
import { validateEnv } from '../../config/configuration';
import type { Opener } from '../../database/data-dir-lock';
import { openMigratedDatabase } from '../../database/open-migrated';
import { PrismaService } from '../../database/prisma.service';
import { loadServerSecret, secretKey } from '../secret/server-secret';
import { KeyEncryption } from './key-encryption';
import { addSigningKey } from './key-rotation';
import { SigningKeysRepository } from './signing-keys.repository';

const USAGE = 'Usage: npm run keys:rotate   (a new signing key; it signs after SIGNING_KEY_LEAD)';

const OPENER: Opener = {
  name: 'keys:rotate',
  instead: "use the running server's admin API: POST /admin/keys/rotate",
};

async function main(): Promise<void> {
  try {
    process.loadEnvFile?.();
  } catch {
    // No .env file: the environment alone configures the command.
  }
  const { values } = parseArgs({ options: { help: { type: 'boolean' } } });
  if (values.help) return console.log(USAGE);
  // ADMIN_* are the server's start-up business, not this command's.
  const config = validateEnv({ ...process.env, ADMIN_EMAIL: undefined, ADMIN_PASSWORD: undefined });
  const { database } = await openMigratedDatabase({ ...config.database, opener: OPENER });
  const prisma = new PrismaService(database);
  try {
    const current = loadServerSecret({ secret: config.auth.secret, env: config.app.env, dataDir: config.database.dataDir });
    const previous = config.auth.previousSecret === undefined ? undefined : secretKey(config.auth.previousSecret);
    const added = await addSigningKey(
      new SigningKeysRepository(prisma),
      new AuditService(prisma, new EventBus(prisma)),
      new KeyEncryption({ current, previous }),
      {
        algorithm: config.auth.algorithm,
        leadSeconds: config.auth.signingKeyLead,
        via: 'keys:rotate',
      },
    );
    console.log(
      `New signing key ${added!.kid} (${config.auth.algorithm}): published now, signs from ${added!.activatesAt.toISOString()} (${database.description})`,
    );
  } finally {
    await prisma.$disconnect();
    await database.close();
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
