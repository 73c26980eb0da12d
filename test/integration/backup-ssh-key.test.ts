// The backup jobs' SSH key, checked with the real tools: ansible-vault opens the
// encrypted file, ssh-keygen reads the private key in it and derives the public key
// float wrote beside it; created once, for sftp repositories only.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { backupSshKeyInventoryFile, backupSshKeyPaths, ensureBackupSshKey, needsBackupSshKey } from '../../src/credentials/backup-ssh-key.js';
import { makeVaultCodec } from '../../src/credentials/vault.js';

const PASSWORD = 'backup key test password';

describe('backup SSH key', () => {
  it('is vault-encrypted, readable by ssh-keygen, matches its public key, and is created once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'float-bk-'));
    const pw = join(dir, 'pw');
    writeFileSync(pw, PASSWORD + '\n');
    expect(ensureBackupSshKey(dir, makeVaultCodec(PASSWORD))).toBe(true);
    const p = backupSshKeyPaths(dir);
    expect(statSync(p.privateKey).mode & 0o777).toBe(0o600);
    const encrypted = readFileSync(p.privateKey, 'utf8');
    expect(encrypted.startsWith('$ANSIBLE_VAULT;1.1;AES256')).toBe(true);
    expect(encrypted).not.toContain('PRIVATE KEY');
    const yaml = execFileSync('ansible-vault', ['view', '--vault-password-file', pw, p.privateKey], { encoding: 'utf8' });
    const key = (parse(yaml) as { float_backup_ssh_private_key: string }).float_backup_ssh_private_key;
    expect(key).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----/);
    const keyFile = join(dir, 'id');
    writeFileSync(keyFile, key, { mode: 0o600 });
    const derived = execFileSync('ssh-keygen', ['-y', '-f', keyFile], { encoding: 'utf8' }).trim().split(' ').slice(0, 2).join(' ');
    expect(readFileSync(p.publicKey, 'utf8').trim().split(' ').slice(0, 2).join(' ')).toBe(derived);
    // Kept: a second call changes nothing.
    expect(ensureBackupSshKey(dir, makeVaultCodec(PASSWORD))).toBe(false);
    expect(readFileSync(p.privateKey, 'utf8')).toBe(encrypted);
    expect(backupSshKeyInventoryFile(dir)).toBe(encrypted);
  });

  it('is needed for sftp repositories only', () => {
    expect(needsBackupSshKey('sftp:u@h:/r')).toBe(true);
    expect(needsBackupSshKey('rest:https://h/')).toBe(false);
    expect(needsBackupSshKey('/srv/restic')).toBe(false);
    expect(needsBackupSshKey(undefined)).toBe(false);
  });
});
