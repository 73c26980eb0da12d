// The admins list and the admin-access globals: names fit for user and file names
// (F2140), crypt hashes only (F2141), admin_auth that leaves an admin out (F2142),
// and the second factors of upstream's SSO accepted but reported (F2030).
import { describe, expect, it } from 'vitest';
import { isCryptHash } from '../../src/config/admins.js';
import { diagnose, FRONTEND } from '../helpers/diagnose.js';

const G = 'domain: internal.example.com\ndomain_public: [example.com]\n';
const SSO = 'a:\n  scheduling_group: backend\n  public_endpoints:\n    - {name: admin, port: 8080, enable_sso_proxy: true}\n' + FRONTEND;
const SHA512 = '$6$saltsaltsalt$aGG2fEUe3rpHavE2WyvcJbwCx4IsWPyqj7WbbuzGp8bP40d3GekpoqY3KRusnF2yFZXr3nz7dqHvCdi2xtTq21';
const YESCRYPT = '$y$j9T$c2FsdHNhbHRzYWx0$V98GIFKe6pg03/S2O0f1j2XO15G.SRIT5deWTHJEmf3';
const BCRYPT = '$2b$10$SdhcEFBAHtj069ukcDUwpOuhfZWuaxTRU9kqwpsNCFwqgn/n14Xe2';

describe('admins (F2140, F2141, F2142)', () => {
  it('good admins are fine: names, sha512-crypt, yescrypt and bcrypt hashes', () => {
    const globals = `${G}admins:\n  - {name: alice, password: '${SHA512}'}\n  - {name: bob-2, password: '${YESCRYPT}'}\n  - {name: c_3, password: '${BCRYPT}'}\n  - {name: dave}\n`;
    expect(diagnose({ 'group_vars/all.yml': globals, 'services.yml': SSO })).toEqual([]);
  });

  it('names that cannot be user or file names, system accounts, and repeats are refused where written', () => {
    const d = diagnose({ 'group_vars/all.yml': `${G}admins:\n  - {name: Alice}\n  - {name: ../x}\n  - {name: root}\n  - {name: www-data}\n  - {name: docker-web}\n  - {name: ok}\n  - {name: ok}\n` });
    expect(d.map((x) => x.at)).toEqual([
      'group_vars/all.yml:4:12 F2140',
      'group_vars/all.yml:5:12 F2140',
      'group_vars/all.yml:6:12 F2140',
      'group_vars/all.yml:7:12 F2140',
      'group_vars/all.yml:8:12 F2140',
      'group_vars/all.yml:10:12 F2140',
    ]);
    expect(d[5].message).toBe("admin 'ok' is listed twice");
  });

  it('a password that is not a supported crypt hash is refused, without printing it', () => {
    for (const bad of ['hunter2', '$1$abc$0123456789012345678901', '{SSHA}abcdef', `${SHA512}:x`]) {
      const d = diagnose({ 'group_vars/all.yml': `${G}admins:\n  - name: alice\n    password: '${bad}'\n` });
      expect(d.map((x) => x.at), bad).toEqual(['group_vars/all.yml:5:15 F2141']);
      expect(d[0].message).not.toContain(bad);
    }
    expect(isCryptHash(SHA512) && isCryptHash(YESCRYPT) && isCryptHash(BCRYPT)).toBe(true);
    // Upstream's argon2 format: a warning (it would never match; the admin is refused where a password is asked).
    const d = diagnose({ 'group_vars/all.yml': `${G}admins:\n  - name: alice\n    password: '$a2$3$32768$4$abcdef'\n` });
    expect(d.map((x) => `${x.at} ${x.severity}`)).toEqual(['group_vars/all.yml:5:15 F2141 warning']);
  });

  it('admin_auth: values checked; password modes warn about admins without a password when admin endpoints exist', () => {
    expect(diagnose({ 'group_vars/all.yml': `${G}admin_auth: totp\n` }).map((x) => x.at)).toEqual(['group_vars/all.yml:3:13 F1002']);
    const globals = (mode: string) => `${G}admin_auth: ${mode}\nadmins:\n  - {name: alice, password: '${SHA512}'}\n  - {name: bob}\n`;
    const d = diagnose({ 'group_vars/all.yml': globals('certificate+password'), 'services.yml': SSO });
    expect(d.map((x) => `${x.at} ${x.severity}`)).toEqual(['group_vars/all.yml:3:13 F2142 warning']);
    expect(d[0].message).toContain("'bob'");
    expect(diagnose({ 'group_vars/all.yml': globals('password'), 'services.yml': SSO }).map((x) => x.at)).toEqual(['group_vars/all.yml:3:13 F2142']);
    // Positive controls: certificate mode needs no password; no admin-only endpoint, nothing to say.
    expect(diagnose({ 'group_vars/all.yml': globals('certificate'), 'services.yml': SSO })).toEqual([]);
    expect(diagnose({ 'group_vars/all.yml': globals('password') })).toEqual([]);
  });

  it('totp_secret and webauthn_registrations are accepted and reported once each, saying what replaces them', () => {
    const d = diagnose({
      'group_vars/all.yml': `${G}admins:\n  - {name: a, totp_secret: ABC, webauthn_registrations: [{key_handle: x}]}\n  - {name: b, totp_secret: DEF}\n`,
    });
    expect(d.map((x) => `${x.at} ${x.severity}`)).toEqual(['group_vars/all.yml:4:15 F2030 warning', 'group_vars/all.yml:4:33 F2030 warning']);
    expect(d[0].message).toMatch(/^'totp_secret' of admin 'a' is accepted but not acted on: .*float admin-cert.* \(and 1 more admin\)$/);
  });
});
