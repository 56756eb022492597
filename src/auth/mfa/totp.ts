import { generateSecret, generateURI, verify } from 'otplib';

/**
 * RFC 6238 as every authenticator app reads it (the otpauth URI's defaults): HMAC-SHA-1,
 * 6 digits, 30-second steps. Generating and checking codes is otplib's (v13); only the
 * parameters and the replay rule's step are ours.
 */
export const TOTP_PERIOD_SECONDS = 30;
/** 160 bits (RFC 4226 §4 recommends it), drawn by otplib from the platform's CSPRNG; 32 base32 characters. */
const SECRET_BYTES = 20;
/** ±1 step of drift between the server's clock and the phone's. */
const DRIFT_STEPS = 1;

export function newTotpSecret(): string {
  return generateSecret({ length: SECRET_BYTES });
}

/** The `otpauth://totp/…` URI an authenticator app reads (as a QR code). */
export function totpUri(issuer: string, account: string, secret: string): string {
  return generateURI({ issuer, label: account, secret, algorithm: 'sha1', digits: 6, period: TOTP_PERIOD_SECONDS });
}

/**
 * The time step `code` belongs to if it is valid now (±1 step), else null. Whether that
 * step was used already is the caller's compare-and-set (TotpFactorsRepository.accept).
 */
export async function totpStepOf(secret: string, code: string): Promise<number | null> {
  if (!/^\d{6}$/.test(code)) return null;
  const result = await verify({
    secret,
    token: code,
    algorithm: 'sha1',
    digits: 6,
    period: TOTP_PERIOD_SECONDS,
    epochTolerance: DRIFT_STEPS * TOTP_PERIOD_SECONDS,
  });
  return result.valid && 'timeStep' in result ? result.timeStep : null;
}
