import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

/**
 * A software WebAuthn authenticator for the specs, written from the WebAuthn and CTAP2
 * texts with node:crypto only (no WebAuthn library: what the server accepts from this is
 * what a browser's authenticator sends): a P-256 key per credential, "none" attestation in
 * CBOR, authenticator data with the RP ID hash, the flags and the counter, ES256
 * signatures in DER.
 */

// ---- A CBOR encoder (RFC 8949) for the few types an attestation object needs. ----
type Cbor = number | string | Uint8Array | Map<Cbor, Cbor> | Record<string, unknown>;
function head(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length]);
  if (length < 0x10000) return Buffer.from([(major << 5) | 25, length >> 8, length & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(length, 1);
  return b;
}
export function cbor(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  const entries: Array<[Cbor, Cbor]> = value instanceof Map ? [...value.entries()] : (Object.entries(value) as Array<[Cbor, Cbor]>);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

/** The authenticator data flags (WebAuthn §6.1). */
const UP = 0x01;
const UV = 0x04;
const BE = 0x08;
const BS = 0x10;
const AT = 0x40;

export interface SoftCredential {
  id: Buffer;
  privateKey: KeyObject;
  /** The COSE_Key (RFC 9052 §7; EC2, ES256, P-256). */
  cosePublicKey: Buffer;
  userHandle: string;
  rpId: string;
  counter: number;
}

export interface SoftAuthenticatorOptions {
  origin: string;
  /** A synced passkey: BE and BS set, and a counter that stays 0 (as iCloud Keychain or Google Password Manager). */
  synced?: boolean;
}

/** What a test can change of one ceremony to make it wrong on purpose. */
export interface Tamper {
  origin?: string;
  rpId?: string;
  userVerified?: boolean;
  /** The counter to report (default: the next one, or 0 for a synced passkey). */
  counter?: number;
  /** Sign something else than what is sent. */
  badSignature?: boolean;
  /** Answer with this credential (default: the first allowed one, or the first this authenticator holds for the RP). */
  credential?: SoftCredential;
}

export class SoftAuthenticator {
  readonly credentials: SoftCredential[] = [];
  readonly aaguid = Buffer.alloc(16);

  constructor(private readonly options: SoftAuthenticatorOptions) {}

  private flags(userVerified: boolean): number {
    return UP | (userVerified ? UV : 0) | (this.options.synced ? BE | BS : 0);
  }

  private authData(rpId: string, flags: number, counter: number, attested?: SoftCredential): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    const parts: Buffer[] = [sha256(rpId), Buffer.from([flags | (attested ? AT : 0)]), count];
    if (attested) {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(attested.id.length);
      parts.push(this.aaguid, length, attested.id, attested.cosePublicKey);
    }
    return Buffer.concat(parts);
  }

  private clientData(type: string, challenge: string, origin: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  /** navigator.credentials.create with the server's creation options (JSON): the RegistrationResponseJSON. */
  create(options: { challenge: string; rp: { id?: string }; user: { id: string } }, tamper: Tamper = {}) {
    const rpId = tamper.rpId ?? options.rp.id!;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const cosePublicKey = cbor(
      new Map<Cbor, Cbor>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x!, 'base64url')],
        [-3, Buffer.from(jwk.y!, 'base64url')],
      ]),
    );
    const credential: SoftCredential = { id: randomBytes(16), privateKey, cosePublicKey, userHandle: options.user.id, rpId: options.rp.id!, counter: 0 };
    const authData = this.authData(rpId, this.flags(tamper.userVerified ?? true), 0, credential);
    const attestationObject = cbor({ fmt: 'none', attStmt: {}, authData });
    const clientDataJSON = this.clientData('webauthn.create', options.challenge, tamper.origin ?? this.options.origin);
    this.credentials.push(credential);
    return {
      id: b64url(credential.id),
      rawId: b64url(credential.id),
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: { clientDataJSON: b64url(clientDataJSON), attestationObject: b64url(attestationObject), transports: ['internal', 'hybrid'] },
    };
  }

  /** navigator.credentials.get with the server's request options (JSON): the AuthenticationResponseJSON. */
  get(options: { challenge: string; rpId?: string; allowCredentials?: Array<{ id: string }> }, tamper: Tamper = {}) {
    const allowed = (options.allowCredentials ?? []).map((c) => c.id);
    const credential = tamper.credential ?? this.credentials.find((c) => c.rpId === options.rpId && (allowed.length === 0 || allowed.includes(b64url(c.id))));
    if (!credential) throw new Error('soft authenticator: no credential for these options');
    const counter = tamper.counter ?? (this.options.synced ? 0 : ++credential.counter);
    const authData = this.authData(tamper.rpId ?? credential.rpId, this.flags(tamper.userVerified ?? true), counter);
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, tamper.origin ?? this.options.origin);
    const signed = Buffer.concat([authData, sha256(tamper.badSignature ? Buffer.from('something else') : clientDataJSON)]);
    // ES256 in WebAuthn is ECDSA over SHA-256, the signature DER-encoded (node's default for EC keys).
    const signature = sign('sha256', signed, credential.privateKey);
    return {
      id: b64url(credential.id),
      rawId: b64url(credential.id),
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        userHandle: credential.userHandle,
      },
    };
  }
}
