-- CreateEnum
CREATE TYPE "SigningAlgorithm" AS ENUM ('ES256', 'RS256');

-- AlterEnum
ALTER TYPE "RevocationKind" ADD VALUE 'KEY_REVOKED';

-- AlterTable
ALTER TABLE "revocation_events" ADD COLUMN     "kid" TEXT,
ALTER COLUMN "user_id" DROP NOT NULL;

-- CreateTable
CREATE TABLE "signing_keys" (
    "kid" TEXT NOT NULL,
    "algorithm" "SigningAlgorithm" NOT NULL,
    "public_jwk" JSONB NOT NULL,
    "private_key_encrypted" BYTEA NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "activates_at" TIMESTAMPTZ(3) NOT NULL,
    "retires_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "signing_keys_pkey" PRIMARY KEY ("kid")
);
