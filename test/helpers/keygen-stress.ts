// Run by test/integration/keygen-stress.test.ts in a child process with a small
// young generation and forced collections: generates keys and issues certificates
// the way `float init-credentials` does, many thousands of times. Prints one line
// with the counts when it finishes; a deadlock in key handling shows as a timeout.
import { generateEd25519, publicKeyLine } from '../../src/credentials/ssh-cert.js';
import { caContext, issueCertificate, newKeyPair, pkcs8Pem, signingKey } from '../../src/credentials/x509.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const total = Number(process.argv[2] ?? 20000);
const ca = caContext(signingKey(newKeyPair().pkcs8));
const now = new Date();
let keep: string[] = [];
let bytes = 0;
for (let i = 0; i < total; i++) {
  const k = newKeyPair();
  const cert = issueCertificate({ id: `h${i}/c/server`, kind: 'server', commonName: `h${i}`, dnsNames: [`h${i}.example.test`], ipAddresses: [], mode: 'server' }, k.spki, ca, now);
  keep.push(pkcs8Pem(k.pkcs8), cert.pem);
  if (i % 4 === 0) keep.push(publicKeyLine(generateEd25519(`k${i}`)));
  if (keep.length > 300) {
    bytes += keep.reduce((n, s) => n + s.length, 0);
    keep = [];
  }
  if (i % 500 === 0) gc();
}
console.log(`issued ${total} certificates and ${Math.ceil(total / 4)} ed25519 keys (${bytes} bytes of PEM)`);
