-- Outbox kinds are an open registry (src/outbox/outbox-kinds.ts): text, not an enum, so a
-- feature adds a kind without a migration. Written by hand from db:diff's output, which
-- dropped and re-added the column: this keeps every row's kind, and the column's place.
-- AlterTable
ALTER TABLE "outbox" ALTER COLUMN "kind" TYPE TEXT USING "kind"::text;

-- DropEnum
DROP TYPE "OutboxKind";
