// Prisma CLI configuration (Prisma 7 reads the connection URL from here, not from the schema).
// The server itself does not use this file: it picks its driver adapter at start
// (src/database/database.ts) and applies migrations itself (src/database/migrator.ts).
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  // `prisma generate` needs no database; `prisma migrate deploy|status` needs DATABASE_URL.
  datasource: { url: process.env.DATABASE_URL ?? '' },
});
