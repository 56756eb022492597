/**
 * `npm run db:migrate`: applies pending migrations to DATABASE_URL (or the embedded
 * database in DATA_DIR) and exits. The server does the same at start; this is for
 * deployments that migrate in a separate step. `npx prisma migrate deploy` is equivalent
 * on a machine where Prisma's schema engine can be downloaded. On the embedded database,
 * only while no server runs on it (data-dir-lock.ts).
 */
import { validateEnv } from '../config/configuration';
import type { Opener } from './data-dir-lock';
import { openMigratedDatabase } from './open-migrated';

const OPENER: Opener = {
  name: 'db:migrate',
  instead: 'restart it with the new code: a server applies pending migrations itself when it starts',
};

async function main(): Promise<void> {
  const config = validateEnv(process.env);
  const { database, applied } = await openMigratedDatabase({ ...config.database, opener: OPENER });
  await database.close();
  console.log(applied.length ? `Applied ${applied.join(', ')} to ${database.description}` : `${database.description} is up to date`);
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
