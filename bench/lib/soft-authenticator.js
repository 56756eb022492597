'use strict';
/**
 * A software WebAuthn authenticator for the signin run: the specs' one
 * (test/support/soft-authenticator.ts) in JavaScript, since the bench cannot load
 * TypeScript, without its ways to tamper. node:crypto only: a P-256 key per credential,
 * "none" attestation in CBOR, authenticator data with the RP ID hash, UP|UV and a counter,
 * ES256 signatures in DER. Keep the two in step: the server checks what this sends with
 * @simplewebauthn/server, and a mistake here is a 400 or a 401, never a silent pass.
 */
const { createHash, generateKeyPairSync, randomBytes, sign } = require('node:crypto');

// CBOR (RFC 8949) for the few types an attestation object needs: integers, text, bytes, maps.
function head(major, length) {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length]);
  if (length < 0x10000) return Buffer.from([(major << 5) | 25, length >> 8, length & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(length, 1);
  return b;
}
function cbor(value) {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

const b64url = (bytes) => Buffer.from(bytes).toString('base64url');
const sha256 = (data) => createHash('sha256').update(data).digest();
const UP = 0x01; // user present
const UV = 0x04; // user verified: a passkey sign-in without it is refused
const AT = 0x40; // attested credential data follows

class SoftAuthenticator {
  /** `origin`: the page the "browser" shows, one of the server's WEBAUTHN_ORIGINS. */
  constructor(origin) {
    this.origin = origin;
    this.credentials = [];
  }

  authData(rpId, flags, counter, attested) {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    const parts = [sha256(rpId), Buffer.from([flags]), count];
    if (attested) {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(attested.id.length);
      parts.push(Buffer.alloc(16) /* AAGUID: none */, length, attested.id, attested.cosePublicKey);
    }
    return Buffer.concat(parts);
  }

  clientData(type, challenge) {
    return Buffer.from(JSON.stringify({ type, challenge, origin: this.origin, crossOrigin: false }));
  }

  /** navigator.credentials.create with the server's creation options (JSON): the RegistrationResponseJSON. */
  create(options) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    // The COSE_Key (RFC 9052 §7): EC2, ES256, P-256, x, y.
    const cosePublicKey = cbor(
      new Map([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x, 'base64url')],
        [-3, Buffer.from(jwk.y, 'base64url')],
      ]),
    );
    const credential = { id: randomBytes(16), privateKey, cosePublicKey, userHandle: options.user.id, rpId: options.rp.id, counter: 0 };
    const authData = this.authData(credential.rpId, UP | UV | AT, 0, credential);
    this.credentials.push(credential);
    return {
      id: b64url(credential.id),
      rawId: b64url(credential.id),
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64url(this.clientData('webauthn.create', options.challenge)),
        attestationObject: b64url(cbor({ fmt: 'none', attStmt: {}, authData })),
        transports: ['internal'],
      },
    };
  }

  /** navigator.credentials.get with the server's request options (JSON; none allowed: discoverable): the AuthenticationResponseJSON. */
  get(options) {
    const allowed = (options.allowCredentials ?? []).map((c) => c.id);
    const credential = this.credentials.find((c) => c.rpId === options.rpId && (allowed.length === 0 || allowed.includes(b64url(c.id))));
    if (!credential) throw new Error('soft authenticator: no credential for these options');
    const authData = this.authData(credential.rpId, UP | UV, ++credential.counter);
    const clientDataJSON = this.clientData('webauthn.get', options.challenge);
    // ES256 in WebAuthn is ECDSA over SHA-256, the signature DER-encoded (node's default for EC keys).
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), credential.privateKey);
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

module.exports = { SoftAuthenticator };
