// The lifecycle roles' templates rendered by Ansible: APT sources from
// float_debian_dist, and msmtp's configuration with its quoting.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderRoleTemplates } from '../helpers/render-role.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'float-lifecycle-render-'));
  dirs.push(d);
  return d;
}

describe('float-base-packages: APT sources', () => {
  for (const dist of ['bookworm', 'trixie']) {
    it(`${dist}: the release, its -updates and its -security suite, in one deb822 file`, () => {
      const d = tmp();
      renderRoleTemplates('float-base-packages', d, { float_debian_dist: dist }, [{ src: 'debian.sources.j2', dest: join(d, 'debian.sources') }]);
      const text = readFileSync(join(d, 'debian.sources'), 'utf8');
      expect(text).toContain(`Suites: ${dist} ${dist}-updates\n`);
      expect(text).toContain(`Suites: ${dist}-security\n`);
      expect(text).toContain('URIs: http://deb.debian.org/debian-security\n');
      expect(text.match(/^Signed-By: \/usr\/share\/keyrings\/debian-archive-keyring.gpg$/gm)).toHaveLength(2);
      // The other release appears nowhere (a positive control for the dist under test above).
      expect(text).not.toContain(dist === 'bookworm' ? 'trixie' : 'bookworm');
    });
  }
});

describe('float-base-mail: msmtprc', () => {
  const relay = { server: 'smtp.example.com', port: 587, user: 'u "x"', password: 'p\\"w', root_user: 'ops@example.com' };
  const render = (mail_relay: Record<string, unknown>) => {
    const d = tmp();
    renderRoleTemplates('float-base-mail', d, { mail_relay, domain: 'internal.example.com', inventory_hostname: 'host1' }, [
      { src: 'msmtprc.j2', dest: join(d, 'msmtprc') },
      { src: 'aliases.j2', dest: join(d, 'aliases') },
    ]);
    return { rc: readFileSync(join(d, 'msmtprc'), 'utf8'), aliases: readFileSync(join(d, 'aliases'), 'utf8') };
  };

  it('STARTTLS on 587, the user and password quoted for msmtp, root and every local user to root_user', () => {
    const { rc, aliases } = render(relay);
    expect(rc.split('\n')[0]).toBe('# Managed by float (float-base-mail).');
    expect(rc).toContain('tls on\ntls_starttls on\n');
    expect(rc).toContain('host smtp.example.com\nport 587\nfrom %U@host1.internal.example.com\nauth on\n');
    expect(rc).toContain('user "u \\"x\\""\n');
    expect(rc).toContain('password "p\\\\\\"w"\n');
    expect(rc).toContain('account default : relay\n');
    expect(aliases).toContain('root: ops@example.com\ndefault: ops@example.com\n');
  });

  it('TLS from the start on 465; no TLS when tls is false', () => {
    expect(render({ ...relay, port: 465 }).rc).toContain('tls on\ntls_starttls off\n');
    const plain = render({ ...relay, tls: false }).rc;
    expect(plain).toContain('tls off\n');
    expect(plain).toContain('auth plain\n');
    expect(plain).not.toContain('tls on');
  });
});
