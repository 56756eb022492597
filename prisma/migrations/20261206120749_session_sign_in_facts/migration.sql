-- AlterTable
-- Written by `npm run db:diff` (ADD COLUMN "acr" TEXT NOT NULL, "amr" TEXT[], "auth_time"
-- TIMESTAMPTZ(3) NOT NULL), with the values of the sessions that exist already: each was
-- opened by a password sign-in or a registration (amr {pwd}, acr aal1) when it was created.
-- The constant defaults are dropped once the rows have them: every new session states its own.
ALTER TABLE "sessions" ADD COLUMN     "acr" TEXT NOT NULL DEFAULT 'aal1',
ADD COLUMN     "amr" TEXT[] DEFAULT ARRAY['pwd']::TEXT[],
ADD COLUMN     "auth_time" TIMESTAMPTZ(3);

UPDATE "sessions" SET "auth_time" = "created_at";

ALTER TABLE "sessions" ALTER COLUMN "acr" DROP DEFAULT,
ALTER COLUMN "amr" DROP DEFAULT,
ALTER COLUMN "auth_time" SET NOT NULL;
