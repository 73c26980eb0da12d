// Shapes shared by the credentials code (vault codec, secrets, X.509 PKI, SSH CA).

/** Key usage of a certificate, as service_credentials' client_cert_mode / server_cert_mode. */
export type CertMode = 'client' | 'server' | 'both';

/** One certificate float must keep issued in credentials_dir. Compile derives these. */
export interface CertRequest {
  /** Where it lives under credentials_dir/x509/, e.g. "host1/myservice/server". Unique. */
  id: string;
  kind: 'server' | 'client';
  commonName: string;
  /** subjectAltName DNS entries, in order. */
  dnsNames: string[];
  /** subjectAltName IP entries (IPv4 or IPv6 literals). */
  ipAddresses: string[];
  mode: CertMode;
}

/** Encrypts/decrypts Ansible Vault 1.1 (AES256) text with one password. */
export interface VaultCodec {
  encrypt(plaintext: string | Buffer): string;
  decrypt(vaultText: string): Buffer;
}
