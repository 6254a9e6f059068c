import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { encode } from 'cbor2';

/*
 * A software WebAuthn authenticator (W3C WebAuthn Level 3): real keys (node:crypto, ES256 on P-256 or
 * Ed25519), real CBOR (cbor2), attestation `none`. It produces what a browser's
 * `credential.toJSON()` sends, so the server's checks run on genuine signatures; each option bends
 * one thing a test attacks (origin, RP ID, flags, counter).
 */

// CBOR of definite, minimal length (what authenticators emit, CTAP2 canonical form). Byte strings are given
// as plain Uint8Arrays: cbor2 encodes a Node Buffer as an object.
const bytes = (value: Uint8Array): Uint8Array => new Uint8Array(value);

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_AT = 0x40;

export type Algorithm = 'ES256' | 'EdDSA';

export interface CeremonyOptions {
  origin?: string;
  rpId?: string;
  /** User verified (a PIN or biometric); default true. */
  uv?: boolean;
  /** User present; default true. */
  up?: boolean;
  /** Override the signature counter for this ceremony (default: the next count). */
  counter?: number;
}

export interface RegistrationJSON {
  id: string;
  rawId: string;
  type: 'public-key';
  response: { clientDataJSON: string; attestationObject: string; transports: string[] };
  clientExtensionResults: Record<string, never>;
}

export interface AssertionJSON {
  id: string;
  rawId: string;
  type: 'public-key';
  response: { clientDataJSON: string; authenticatorData: string; signature: string; userHandle?: string };
  clientExtensionResults: Record<string, never>;
}

const b64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string): Buffer => createHash('sha256').update(data).digest();

function coseKey(algorithm: Algorithm, publicKey: KeyObject): Uint8Array {
  const jwk = publicKey.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x ?? '', 'base64url');
  if (algorithm === 'EdDSA') {
    return encode(
      new Map<number, number | Uint8Array>([
        [1, 1],
        [3, -8],
        [-1, 6],
        [-2, bytes(x)],
      ]),
    );
  }
  return encode(
    new Map<number, number | Uint8Array>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, bytes(x)],
      [-3, bytes(Buffer.from(jwk.y ?? '', 'base64url'))],
    ]),
  );
}

function flags({ up = true, uv = true }: CeremonyOptions, attested: boolean): number {
  return (up ? FLAG_UP : 0) | (uv ? FLAG_UV : 0) | (attested ? FLAG_AT : 0);
}

function counterBytes(counter: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(counter);
  return bytes;
}

/** One credential on one software authenticator. */
export class SoftwareAuthenticator {
  readonly credentialId: Buffer = randomBytes(32);
  counter = 0;
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private userHandle: string | undefined;

  constructor(
    readonly algorithm: Algorithm = 'ES256',
    private readonly defaults: { origin: string; rpId: string } = {
      origin: 'http://localhost:3000',
      rpId: 'localhost',
    },
  ) {
    const pair =
      algorithm === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
  }

  get id(): string {
    return b64url(this.credentialId);
  }

  private clientData(type: string, challenge: string, options: CeremonyOptions): Buffer {
    return Buffer.from(
      JSON.stringify({ type, challenge, origin: options.origin ?? this.defaults.origin, crossOrigin: false }),
    );
  }

  /** `navigator.credentials.create()` for these creation options (their JSON form). */
  register(creation: { challenge: string; user?: { id: string } }, options: CeremonyOptions = {}): RegistrationJSON {
    this.userHandle = creation.user?.id;
    const counter = options.counter ?? this.counter;
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const authData = Buffer.concat([
      sha256(options.rpId ?? this.defaults.rpId),
      Buffer.from([flags(options, true)]),
      counterBytes(counter),
      Buffer.alloc(16), // AAGUID: all zero, as with attestation `none`
      idLength,
      this.credentialId,
      Buffer.from(coseKey(this.algorithm, this.publicKey)),
    ]);
    const attestationObject = encode({ fmt: 'none', attStmt: {}, authData: bytes(authData) });
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(this.clientData('webauthn.create', creation.challenge, options)),
        attestationObject: b64url(attestationObject),
        transports: ['internal'],
      },
      clientExtensionResults: {},
    };
  }

  /** `navigator.credentials.get()` for these request options; counts up unless told a counter. */
  assert(request: { challenge: string }, options: CeremonyOptions = {}): AssertionJSON {
    const counter = options.counter ?? (this.counter += 1);
    const authenticatorData = Buffer.concat([
      sha256(options.rpId ?? this.defaults.rpId),
      Buffer.from([flags(options, false)]),
      counterBytes(counter),
    ]);
    const clientDataJSON = this.clientData('webauthn.get', request.challenge, options);
    const signed = Buffer.concat([authenticatorData, sha256(clientDataJSON)]);
    const signature =
      this.algorithm === 'EdDSA' ? sign(null, signed, this.privateKey) : sign('sha256', signed, this.privateKey);
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authenticatorData),
        signature: b64url(signature),
        ...(this.userHandle ? { userHandle: this.userHandle } : {}),
      },
      clientExtensionResults: {},
    };
  }
}
