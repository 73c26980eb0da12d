// SSH keys and certificates in process: the SSH CA's ed25519 key in OpenSSH's
// own private key format ("openssh-key-v1", unencrypted inside the vault
// envelope, so `ansible-vault view` + ssh-keygen can still use it), and host
// certificates as OpenSSH's PROTOCOL.certkeys describes them, signed with
// node:crypto. The CA's private key exists only in memory: nothing decrypted
// is ever written to a file.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';

const MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');
const ED25519 = 'ssh-ed25519';

// ---- SSH wire encoding (RFC 4251) ------------------------------------------------

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function u64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
}

function str(data: Buffer | string): Buffer {
  const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return Buffer.concat([u32(b.length), b]);
}

/** Reads SSH wire fields from a buffer, failing with `what` named when it runs short. */
class Reader {
  private at = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {}
  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new Error(`${this.what}: truncated`);
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }
  bytes(): Buffer {
    const n = this.u32();
    this.need(n);
    const v = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }
  text(): string {
    return this.bytes().toString('utf8');
  }
  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.at);
    this.at += 8;
    return v;
  }
  get offset(): number {
    return this.at;
  }
  get done(): boolean {
    return this.at === this.buf.length;
  }
}

// ---- ed25519 keys ----------------------------------------------------------------

export interface SshEd25519Key {
  /** The 32-byte public key. */
  publicKey: Buffer;
  /** The 32-byte seed (RFC 8032 private key). */
  seed: Buffer;
  comment: string;
}

/** PKCS#8 wrapping of an ed25519 seed (RFC 8410): the key is built from the seed alone. */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

/** SubjectPublicKeyInfo prefix of an ed25519 key (RFC 8410): the 32-byte key follows. */
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

function ed25519Seed(pkcs8: Buffer): Buffer {
  if (pkcs8.length !== PKCS8_ED25519.length + 32 || !pkcs8.subarray(0, PKCS8_ED25519.length).equals(PKCS8_ED25519)) throw new Error('not an ed25519 PKCS#8 key');
  return pkcs8.subarray(PKCS8_ED25519.length);
}

function ed25519Public(spki: Buffer): Buffer {
  if (spki.length !== SPKI_ED25519.length + 32 || !spki.subarray(0, SPKI_ED25519.length).equals(SPKI_ED25519)) throw new Error('not an ed25519 public key');
  return spki.subarray(SPKI_ED25519.length);
}

function keyObject(k: SshEd25519Key): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, k.seed]), format: 'der', type: 'pkcs8' });
}

export function generateEd25519(comment: string): SshEd25519Key {
  // DER encodings straight from key generation: exporting a freshly generated KeyObject
  // (as JWK) can deadlock Node's crypto under garbage collection (see x509.ts).
  const { privateKey, publicKey } = generateKeyPairSync('ed25519', {
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  });
  return { seed: ed25519Seed(privateKey), publicKey: ed25519Public(publicKey), comment };
}

/** The public key blob: string "ssh-ed25519", string key. */
function ed25519Blob(publicKey: Buffer): Buffer {
  return Buffer.concat([str(ED25519), str(publicKey)]);
}

/** `ssh-ed25519 AAAA... comment`, as in a .pub file. */
export function publicKeyLine(k: SshEd25519Key): string {
  return `${ED25519} ${ed25519Blob(k.publicKey).toString('base64')}${k.comment ? ` ${k.comment}` : ''}`;
}

/** OpenSSH's private key file, unencrypted (the vault encrypts it). */
export function encodeOpensshPrivateKey(k: SshEd25519Key): string {
  const check = randomBytes(4);
  const body = [check, check, str(ED25519), str(k.publicKey), str(Buffer.concat([k.seed, k.publicKey])), str(k.comment)];
  let plain = Buffer.concat(body);
  const pad = (8 - (plain.length % 8)) % 8;
  plain = Buffer.concat([plain, Buffer.from(Array.from({ length: pad }, (_, i) => i + 1))]);
  const file = Buffer.concat([MAGIC, str('none'), str('none'), str(''), u32(1), str(ed25519Blob(k.publicKey)), str(plain)]);
  const b64 = file.toString('base64').replace(/.{70}/g, '$&\n');
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64.trimEnd()}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

/** Reads an unencrypted ed25519 key in OpenSSH's format (as ssh-keygen writes it with -N ''). */
export function decodeOpensshPrivateKey(text: string, what: string): SshEd25519Key {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text);
  if (!m) throw new Error(`${what}: not an OpenSSH private key`);
  const file = Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
  if (!file.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error(`${what}: not an OpenSSH private key`);
  const r = new Reader(file.subarray(MAGIC.length), what);
  const cipher = r.text();
  r.text(); // kdf name
  r.bytes(); // kdf options
  if (cipher !== 'none') throw new Error(`${what}: the key has a passphrase (${cipher}); float keeps it unencrypted inside the vault`);
  if (r.u32() !== 1) throw new Error(`${what}: expected exactly one key`);
  r.bytes(); // public key blob, repeated below
  const p = new Reader(r.bytes(), what);
  if (p.u32() !== p.u32()) throw new Error(`${what}: corrupt (check bytes differ)`);
  const type = p.text();
  if (type !== ED25519) throw new Error(`${what}: a ${type} key; the SSH CA must be ed25519`);
  const publicKey = p.bytes();
  const secret = p.bytes();
  const comment = p.text();
  if (publicKey.length !== 32 || secret.length !== 64 || !secret.subarray(32).equals(publicKey)) throw new Error(`${what}: corrupt ed25519 key`);
  return { seed: Buffer.from(secret.subarray(0, 32)), publicKey: Buffer.from(publicKey), comment };
}

// ---- certificates --------------------------------------------------------------

export interface HostCertRequest {
  /** The host's public key line (`TYPE BASE64 [comment]`): any type sshd has. */
  hostPublicKey: string;
  identity: string;
  principals: string[];
  validAfter: Date;
  validBefore: Date;
  /** The certificate's serial; a random 64-bit number when absent, so each certificate can be revoked alone (a KRL by serial). */
  serial?: bigint;
}

/** Splits a public key line into its type and blob, checking that they agree. */
export function parsePublicKeyLine(line: string): { type: string; blob: Buffer } {
  const [type, b64] = line.trim().split(/\s+/);
  const notKey = () => new Error(`not an SSH public key: '${line.trim().slice(0, 40)}'`);
  if (!type || !b64 || !/^[A-Za-z0-9+/]+=*$/.test(b64)) throw notKey();
  const blob = Buffer.from(b64, 'base64');
  let inner: string;
  try {
    inner = new Reader(blob, 'SSH public key').text();
  } catch {
    throw notKey();
  }
  if (inner !== type) throw new Error(`SSH public key: the line says ${type} but the key is ${inner}`);
  if (type.includes('-cert-')) throw new Error('SSH public key: a certificate, not a key');
  return { type, blob };
}

/** A random non-zero 64-bit serial (0 is what unnumbered certificates carry). */
function randomSerial(): bigint {
  for (;;) {
    const n = randomBytes(8).readBigUInt64BE();
    if (n !== 0n) return n;
  }
}

/**
 * A host certificate (PROTOCOL.certkeys): the certificate type, a random nonce,
 * the host key's own fields as in its public blob, a serial (random unless
 * given, never 0, so one certificate can be revoked by serial), type 2 (host), key
 * id, principals, validity, no options or extensions, the CA key, and the CA's
 * ed25519 signature over all of it. Returns the certificate line.
 */
export function signHostCertificate(ca: SshEd25519Key, req: HostCertRequest): string {
  return signCertificate(ca, req, 2, []);
}

/** The extensions of user certificates, as ssh-keygen grants them by default (sorted, as PROTOCOL.certkeys requires). */
const USER_EXTENSIONS = ['permit-X11-forwarding', 'permit-agent-forwarding', 'permit-port-forwarding', 'permit-pty', 'permit-user-rc'];

export interface UserCertRequest {
  /** The user's public key line. */
  publicKey: string;
  /** Key id: logged by sshd on every login with the certificate. */
  identity: string;
  principals: string[];
  validAfter: Date;
  validBefore: Date;
  serial?: bigint;
}

/** A user certificate (type 1), with ssh-keygen's default extensions and no critical options. */
export function signUserCertificate(ca: SshEd25519Key, req: UserCertRequest): string {
  return signCertificate(ca, { ...req, hostPublicKey: req.publicKey }, 1, USER_EXTENSIONS);
}

function signCertificate(ca: SshEd25519Key, req: HostCertRequest, kind: 1 | 2, extensions: string[]): string {
  const { type, blob } = parsePublicKeyLine(req.hostPublicKey);
  const keyFields = blob.subarray(4 + Buffer.byteLength(type));
  const seconds = (d: Date) => BigInt(Math.max(0, Math.floor(d.getTime() / 1000)));
  const certType = `${type}-cert-v01@openssh.com`;
  const body = Buffer.concat([
    str(certType),
    str(randomBytes(32)),
    keyFields,
    u64(req.serial ?? randomSerial()),
    u32(kind),
    str(req.identity),
    str(Buffer.concat(req.principals.map((p) => str(p)))),
    u64(seconds(req.validAfter)),
    u64(seconds(req.validBefore)),
    str(''),
    str(Buffer.concat([...extensions].sort().map((e) => Buffer.concat([str(e), str('')])))),
    str(''),
    str(ed25519Blob(ca.publicKey)),
  ]);
  const signature = sign(null, body, keyObject(ca));
  const cert = Buffer.concat([body, str(Buffer.concat([str(ED25519), str(signature)]))]);
  return `${certType} ${cert.toString('base64')}`;
}

/** Checks a key pair: the seed must give the stored public key (a damaged file would sign with another key). */
export function checkKeyPair(k: SshEd25519Key, what: string): void {
  const spki = createPublicKey(keyObject(k)).export({ type: 'spki', format: 'der' });
  if (!ed25519Public(spki).equals(k.publicKey)) throw new Error(`${what}: the private key does not match its public key`);
}

// ---- reading certificates ----------------------------------------------------------

/** How many length-prefixed fields each key type's public part has (PROTOCOL.certkeys). */
const KEY_FIELDS: Record<string, number> = {
  'ssh-ed25519': 1,
  'ssh-rsa': 2,
  'ssh-dss': 4,
  'ecdsa-sha2-nistp256': 2,
  'ecdsa-sha2-nistp384': 2,
  'ecdsa-sha2-nistp521': 2,
};

/** `SHA256:<base64 without padding>` of a public key blob, as ssh-keygen -l prints it. */
export function blobFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export interface SshCertificate {
  /** The certified key's type and public blob. */
  keyType: string;
  keyBlob: Buffer;
  serial: bigint;
  /** 1 user, 2 host. */
  certType: number;
  keyId: string;
  principals: string[];
  validAfter: Date;
  validBefore: Date;
  /** The signing CA's public key blob. */
  caBlob: Buffer;
  /** Whether the CA's signature over the certificate verifies (ed25519 CAs; float's CA is one). */
  signatureValid: boolean;
}

/**
 * Reads a certificate line (`TYPE-cert-v01@openssh.com BASE64 [comment]`) in
 * process, checking its structure and, for an ed25519 CA, its signature. Throws on
 * anything malformed.
 */
export function parseCertificate(line: string): SshCertificate {
  const [type, b64] = line.trim().split(/\s+/);
  const m = /^(.+)-cert-v01@openssh\.com$/.exec(type ?? '');
  if (!m || !b64 || !/^[A-Za-z0-9+/]+=*$/.test(b64) || KEY_FIELDS[m[1]] === undefined) throw new Error('not an SSH certificate of a known key type');
  const keyType = m[1];
  const buf = Buffer.from(b64, 'base64');
  const r = new Reader(buf, 'SSH certificate');
  if (r.text() !== type) throw new Error('SSH certificate: its type does not match its line');
  r.bytes(); // nonce
  const fieldsStart = r.offset;
  for (let i = 0; i < KEY_FIELDS[keyType]; i++) r.bytes();
  const keyBlob = Buffer.concat([str(keyType), buf.subarray(fieldsStart, r.offset)]);
  const serial = r.u64();
  const certType = r.u32();
  const keyId = r.text();
  const principalsReader = new Reader(r.bytes(), 'SSH certificate principals');
  const principals: string[] = [];
  while (!principalsReader.done) principals.push(principalsReader.text());
  // "forever" is 2^64-1; Dates end at year 275760, clamp to the end of year 9999.
  const time = (n: bigint) => new Date(Number(n > 253402300799n ? 253402300799n : n) * 1000);
  const validAfter = time(r.u64());
  const validBefore = time(r.u64());
  r.bytes(); // critical options
  r.bytes(); // extensions
  r.bytes(); // reserved
  const caBlob = r.bytes();
  const signed = buf.subarray(0, r.offset);
  const sigReader = new Reader(r.bytes(), 'SSH certificate signature');
  const sigType = sigReader.text();
  const sig = sigReader.bytes();
  if (!r.done) throw new Error('SSH certificate: trailing bytes');
  let signatureValid = false;
  const caReader = new Reader(caBlob, 'SSH certificate CA key');
  if (caReader.text() === ED25519 && sigType === ED25519) {
    const caKey = caReader.bytes();
    if (caKey.length === 32) {
      const pub = createPublicKey({ key: Buffer.concat([SPKI_ED25519, caKey]), format: 'der', type: 'spki' });
      signatureValid = verify(null, signed, pub, sig);
    }
  }
  return { keyType, keyBlob, serial, certType, keyId, principals, validAfter, validBefore, caBlob, signatureValid };
}
