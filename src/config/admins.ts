// Checks of the `admins` list and the admin-access globals (admin_auth,
// admin_accounts): admin names become user names, file names on the hosts, nginx
// map values and certificate names, so they are restricted to what all of those
// accept; passwords must be crypt hashes nginx's crypt() (libxcrypt) verifies.
// The admin attributes no role acts on (second factors of upstream's SSO) are
// reported as accepted but not acted on (F2030).
import type { Diagnostic } from './diagnostics.js';
import type { Model } from './load.js';
import { at, locate } from './source.js';

/** A lowercase user name: a letter, then letters, digits, `_` or `-`; 32 characters at most. */
export const ADMIN_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

/** Accounts and groups a Debian host already has, or float creates: an admin cannot take them over. */
const RESERVED = new Set([
  'root', 'daemon', 'bin', 'sys', 'sync', 'games', 'man', 'lp', 'mail', 'news', 'uucp', 'proxy', 'www-data', 'backup', 'list', 'irc',
  'gnats', 'nobody', 'sshd', 'messagebus', 'sudo', 'adm', 'staff', 'users', 'nogroup', 'float-admins', 'prometheus', 'bind', 'haproxy',
]);

/**
 * Crypt hashes float accepts for admin passwords, each checked against Debian
 * nginx's auth_basic (libxcrypt): sha512-crypt ($6$), sha256-crypt ($5$),
 * yescrypt ($y$) and bcrypt ($2b$, $2y$, $2a$).
 */
const CRYPT_HASHES: { name: string; re: RegExp }[] = [
  { name: 'sha512-crypt', re: /^\$6\$(rounds=[0-9]{4,9}\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}$/ },
  { name: 'sha256-crypt', re: /^\$5\$(rounds=[0-9]{4,9}\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{43}$/ },
  { name: 'yescrypt', re: /^\$y\$[./0-9A-Za-z]+\$[./0-9A-Za-z]{1,86}\$[./0-9A-Za-z]{43}$/ },
  { name: 'bcrypt', re: /^\$2[aby]\$[0-9]{2}\$[./0-9A-Za-z]{53}$/ },
];

export function isCryptHash(v: string): boolean {
  return CRYPT_HASHES.some((h) => h.re.test(v));
}

/** Admin attributes accepted for upstream configurations, with what replaces them here. */
const ADMIN_UNIMPLEMENTED: Record<string, string> = {
  totp_secret: 'no TOTP second factor: admin-only endpoints take a client certificate from the admin CA (float admin-cert) as the second factor',
  webauthn_registrations: 'no WebAuthn: admin-only endpoints take a client certificate from the admin CA (float admin-cert) instead',
  u2f_registrations: 'no U2F: admin-only endpoints take a client certificate from the admin CA (float admin-cert) instead',
};

/** Whether any public endpoint is admin-only (enable_sso_proxy). */
export function hasAdminEndpoints(model: Model): boolean {
  return model.services.some((s) => s.public_endpoints.some((e) => e.enable_sso_proxy));
}

export function checkAdmins(model: Model): Diagnostic[] {
  const out: Diagnostic[] = [];
  const src = model.sources.globals;
  const admins = model.globals.admins ?? [];
  const pos = (path: PropertyKey[]) => locate(src, ['admins', ...path]);
  const seen = new Set<string>();
  const firstUse: Record<string, { i: number; n: number }> = {};
  admins.forEach((a, i) => {
    if (!ADMIN_NAME.test(a.name) || RESERVED.has(a.name) || a.name.startsWith('docker-') || a.name.endsWith('-credentials')) {
      out.push({
        code: 'F2140',
        severity: 'error',
        message: `admin name '${a.name}' cannot be used: admin names become user names and file names on the hosts (a lowercase letter, then lowercase letters, digits, '_' or '-', 32 characters at most; not a system account such as root or www-data, not docker-* or *-credentials)`,
        pos: pos([i, 'name']),
        subject: a.name,
      });
    } else if (seen.has(a.name)) {
      out.push({ code: 'F2140', severity: 'error', message: `admin '${a.name}' is listed twice`, pos: pos([i, 'name']), subject: a.name });
    }
    seen.add(a.name);
    if (a.password !== undefined && !isCryptHash(a.password) && /^\$(a2|s)\$/.test(a.password)) {
      // Upstream's auth server formats (argon2, scrypt): nginx's crypt() cannot check them.
      out.push({
        code: 'F2141',
        severity: 'warning',
        message: `the password of admin '${a.name}' is in a format of upstream's auth server that nginx cannot check (argon2 or scrypt): where admin-only endpoints ask for it, it is refused until you replace it with a crypt hash (${CRYPT_HASHES.map((h) => h.name).join(', ')}), e.g. from \`mkpasswd -m yescrypt\``,
        pos: pos([i, 'password']),
        subject: a.name,
      });
    } else if (a.password !== undefined && !isCryptHash(a.password)) {
      // Never the value: it is a password hash, or worse, a password.
      out.push({
        code: 'F2141',
        severity: 'error',
        message: `the password of admin '${a.name}' is not a crypt hash float supports (${CRYPT_HASHES.map((h) => h.name).join(', ')}), e.g. from \`mkpasswd -m yescrypt\` or \`openssl passwd -6\``,
        pos: pos([i, 'password']),
        subject: a.name,
      });
    }
    for (const attr of Object.keys(ADMIN_UNIMPLEMENTED)) {
      const v = (a as Record<string, unknown>)[attr];
      const set = Array.isArray(v) ? v.length > 0 : v !== undefined && v !== null && v !== '';
      if (!set) continue;
      if (firstUse[attr]) firstUse[attr].n++;
      else firstUse[attr] = { i, n: 1 };
    }
  });
  for (const [attr, { i, n }] of Object.entries(firstUse)) {
    const more = n > 1 ? ` (and ${n - 1} more admin${n > 2 ? 's' : ''})` : '';
    out.push({
      code: 'F2030',
      severity: 'warning',
      message: `'${attr}' of admin '${admins[i].name}' is accepted but not acted on: ${ADMIN_UNIMPLEMENTED[attr]}${more}`,
      pos: locate(src, ['admins', i, attr], { key: true }),
      subject: attr,
    });
  }
  const sso = hasAdminEndpoints(model);
  const mode = model.globals.admin_auth;
  if (sso && mode) {
    const needsPassword = mode !== 'certificate';
    const without = admins.filter((a) => a.password === undefined).map((a) => a.name);
    if (needsPassword && without.length > 0) {
      out.push({
        code: 'F2142',
        severity: 'warning',
        message: `admin_auth is ${mode}, but admin${without.length > 1 ? 's' : ''} ${without.map((n) => `'${n}'`).join(', ')} ha${without.length > 1 ? 've' : 's'} no password: they cannot reach the admin-only endpoints`,
        pos: at(src, ['admin_auth']) ? locate(src, ['admin_auth']) : undefined,
        subject: 'admin_auth',
      });
    }
  }
  return out;
}
