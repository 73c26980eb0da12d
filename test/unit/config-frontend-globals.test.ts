// Globals the frontend and firewall roles read: ssh_allowed_from (CIDRs) and
// nginx_hsts_max_age are validated at load, with positions.
import { describe, expect, it } from 'vitest';
import { diagnose } from '../helpers/diagnose.js';

const globals = (extra: string) => ({
  'group_vars/all.yml': `domain: internal.example.com\ndomain_public: [example.com]\n${extra}`,
  'services.yml': 'a: {}\n',
});

describe('frontend and firewall globals', () => {
  it('ssh_allowed_from: IPv4 and IPv6 networks are accepted', () => {
    expect(diagnose(globals('ssh_allowed_from: [192.0.2.0/24, 10.1.2.3/32, "2001:db8::/32"]\n'))).toEqual([]);
  });

  it('ssh_allowed_from: anything but a CIDR is F1002 at the element', () => {
    const d = diagnose(globals('ssh_allowed_from:\n  - 192.0.2.0/24\n  - 192.0.2.1\n  - "10.0.0.0/8; accept"\n  - "10.0.0.0/33"\n'));
    expect(d.map((x) => x.at)).toEqual(['group_vars/all.yml:5:5 F1002', 'group_vars/all.yml:6:5 F1002', 'group_vars/all.yml:7:5 F1002']);
    expect(d[0].message).toContain('CIDR');
    expect(diagnose(globals('ssh_allowed_from: 10.0.0.0/8\n')).map((x) => x.at)).toEqual(['group_vars/all.yml:3:19 F1002']);
  });

  it('nginx_hsts_max_age: a non-negative integer (0 turns HSTS off)', () => {
    expect(diagnose(globals('nginx_hsts_max_age: 0\n'))).toEqual([]);
    expect(diagnose(globals('nginx_hsts_max_age: -1\n')).map((x) => x.at)).toEqual(['group_vars/all.yml:3:21 F1002']);
    expect(diagnose(globals('nginx_hsts_max_age: "1y"\n')).map((x) => x.at)).toEqual(['group_vars/all.yml:3:21 F1002']);
  });
});
