// Ansible Vault format 1.1 (AES256), with node:crypto only:
//   $ANSIBLE_VAULT;1.1;AES256
//   hex( hex(salt) "\n" hex(hmac) "\n" hex(ciphertext) ), wrapped at 80 columns
// Keys: PBKDF2-HMAC-SHA256(password, salt, 10000 iterations) -> 80 bytes =
// AES-256 key (32) | HMAC-SHA256 key (32) | CTR initial counter (16).
// The plaintext is PKCS#7-padded to the AES block size, as Ansible does.
import { createCipheriv, createDecipheriv, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FloatUserError } from '../config/diagnostics.js';
import type { VaultCodec } from '../credentials/types.js';

const HEADER = '$ANSIBLE_VAULT;1.1;AES256';
const ITERATIONS = 10000;

function deriveKeys(password: string, salt: Buffer): { key: Buffer; hmacKey: Buffer; iv: Buffer } {
  const d = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, ITERATIONS, 80, 'sha256');
  return { key: d.subarray(0, 32), hmacKey: d.subarray(32, 64), iv: d.subarray(64, 80) };
}

function pad(data: Buffer): Buffer {
  const n = 16 - (data.length % 16);
  return Buffer.concat([data, Buffer.alloc(n, n)]);
}

function unpad(data: Buffer): Buffer {
  const n = data[data.length - 1];
  if (!n || n > 16 || n > data.length) throw new FloatUserError('vault: bad padding (corrupt data or wrong password)', 'F2033');
  return data.subarray(0, data.length - n);
}

export function isVaultText(text: string): boolean {
  return text.startsWith('$ANSIBLE_VAULT;');
}

export function vaultEncrypt(plaintext: string | Buffer, password: string): string {
  const salt = randomBytes(32);
  const { key, hmacKey, iv } = deriveKeys(password, salt);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  const ciphertext = Buffer.concat([cipher.update(pad(data)), cipher.final()]);
  const hmac = createHmac('sha256', hmacKey).update(ciphertext).digest();
  const inner = `${salt.toString('hex')}\n${hmac.toString('hex')}\n${ciphertext.toString('hex')}`;
  const body = Buffer.from(inner, 'ascii').toString('hex');
  const lines = body.match(/.{1,80}/g) ?? [];
  return `${HEADER}\n${lines.join('\n')}\n`;
}

export function vaultDecrypt(text: string, password: string): Buffer {
  const lines = text.trim().split(/\r?\n/);
  const header = lines[0]?.trim().split(';') ?? [];
  if (header[0] !== '$ANSIBLE_VAULT' || header[2]?.trim() !== 'AES256' || !['1.1', '1.2'].includes(header[1])) {
    throw new FloatUserError('not an Ansible Vault 1.1/1.2 AES256 file', 'F2033');
  }
  // Whitespace anywhere in the body is layout (line wrapping, indentation of an inline vault).
  const body = lines.slice(1).join('').replace(/\s+/g, '');
  if (body.length === 0 || body.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(body)) throw new FloatUserError('vault: malformed body (not hexadecimal)', 'F2033');
  const inner = Buffer.from(body, 'hex').toString('ascii').split('\n');
  if (inner.length !== 3) throw new FloatUserError('vault: malformed body', 'F2033');
  const [salt, hmac, ciphertext] = inner.map((h) => Buffer.from(h, 'hex'));
  const { key, hmacKey, iv } = deriveKeys(password, salt);
  const expected = createHmac('sha256', hmacKey).update(ciphertext).digest();
  if (expected.length !== hmac.length || !timingSafeEqual(expected, hmac)) {
    throw new FloatUserError('vault: HMAC mismatch: wrong vault password, or the file was modified', 'F2033');
  }
  const decipher = createDecipheriv('aes-256-ctr', key, iv);
  return unpad(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
}

/** Decrypts a vault file; errors name the file. */
export function decryptVaultFile(path: string, codec: VaultCodec): Buffer {
  const text = readFileSync(path, 'utf8');
  try {
    return codec.decrypt(text);
  } catch (err) {
    if (err instanceof FloatUserError) throw new FloatUserError(err.diagnostics.map((d) => ({ ...d, message: `${path}: ${d.message}` })));
    throw err;
  }
}

export function makeVaultCodec(password: string): VaultCodec {
  return {
    encrypt: (plaintext) => vaultEncrypt(plaintext, password),
    decrypt: (text) => vaultDecrypt(text, password),
  };
}
