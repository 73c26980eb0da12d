// Loads a float configuration: config.yml, services.yml (with includes), hosts.yml,
// group_vars/, passwords.yml. Returns one typed Model plus every diagnostic found;
// it never stops at the first error.
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../core/package-root.js';
import { isVaultText, vaultDecrypt } from '../core/vault.js';
import { loadVaultPasswordSync } from '../core/vault-password.js';
import { FloatUserError, formatPosition, type Diagnostic, type Position } from './diagnostics.js';
import { configFile, type ConfigFile } from './schema/config.js';
import { globals, type Globals } from './schema/globals.js';
import { hostAttrs, hostsFileKeys, type Host } from './schema/host.js';
import { passwordEntry, passwordInclude, type PasswordEntry } from './schema/passwords.js';
import { NAME_RE, service, type Service } from './schema/service.js';
import {
  displayPath,
  locate,
  mergeSourced,
  parseYamlText,
  plain,
  positionOf,
  readYamlFile,
  toSourced,
  type Sourced,
  type YamlFile,
} from './source.js';
import { validate } from './validate.js';

/** Where the bundled files (services.default.yml, playbooks/, roles/) live. */
export const FLOAT_ROOT = PACKAGE_ROOT;

export interface Model {
  /** Absolute path of config.yml. */
  configPath: string;
  /** Directory of config.yml. */
  baseDir: string;
  config: ConfigFile & {
    services_file: string;
    hosts_file: string;
    passwords_file: string;
    credentials_dir: string;
  };
  /** Enabled services, sorted by name. */
  services: Service[];
  /** Hosts, sorted by name. */
  hosts: Host[];
  globals: Globals & Record<string, unknown>;
  /** Variables of groups other than `all` (hosts.yml group_vars merged with group_vars/ files). */
  groupVars: Record<string, Record<string, unknown>>;
  passwords: PasswordEntry[];
  /**
   * Vault-encrypted group_vars files, as read (still encrypted): the inventory
   * carries them as they are, and Ansible decrypts them itself.
   */
  encryptedVars: EncryptedVarsFile[];
  /**
   * Per group, the variables whose value comes (wholly or partly) from an
   * encrypted file: never written to the inventory in the clear.
   */
  encryptedKeys: Record<string, string[]>;
  /** Where things were written, for positioned diagnostics in later stages. */
  sources: {
    config: Sourced;
    services: Sourced;
    hosts: Sourced;
    globals: Sourced;
    /** Variables of each group (hosts.yml group_vars merged with group_vars/ files), `all` included. */
    groupVars?: Map<string, Sourced>;
  };
}

export interface EncryptedVarsFile {
  group: string;
  /** Absolute path of the file. */
  path: string;
  /** Its content, still vault-encrypted. */
  text: string;
}

export interface LoadOptions {
  /**
   * The vault password, for vault-encrypted group_vars files. Default: read as
   * Ansible reads it, from ANSIBLE_VAULT_PASSWORD_FILE or else config.yml's
   * vault_password_file (asked only when such a file exists).
   */
  vaultPassword?: () => string;
}

export interface LoadResult {
  model?: Model;
  diagnostics: Diagnostic[];
}

const EMPTY_FILE = (file: YamlFile): Sourced => ({ kind: 'map', file, node: file.doc.contents!, entries: new Map() });

function resolveFrom(file: string, p: string): string {
  return isAbsolute(p) ? p : resolve(dirname(file), p);
}

function expectMap(s: Sourced, what: string, diags: Diagnostic[]): boolean {
  if (s.kind === 'map') return true;
  if (s.kind === 'scalar' && s.value === null) return false; // an empty file
  diags.push({ code: 'F1002', severity: 'error', message: `${what} must be a mapping`, pos: locate(s, []) });
  return false;
}

function readSourced(path: string, diags: Diagnostic[], from?: Position, text?: string, decrypted = false): Sourced | undefined {
  const file = text === undefined ? readYamlFile(path, diags, from) : parseYamlText(path, text, diags, { decrypted });
  if (!file) return undefined;
  const s = toSourced(file, file.doc.contents, diags);
  if (!s) return undefined;
  return s.kind === 'scalar' && s.value === null ? EMPTY_FILE(file) : s;
}

/** Reads a file of the `include`-able kind (services.yml), evaluating includes first and merging. */
function readWithIncludes(path: string, diags: Diagnostic[], stack: string[], from?: Position): Sourced | undefined {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    real = path;
  }
  if (stack.includes(real)) {
    const chain = [...stack.slice(stack.indexOf(real)), real].map(displayPath).join(' -> ');
    diags.push({ code: 'F1006', severity: 'error', message: `include cycle: ${chain}`, pos: from });
    return undefined;
  }
  const own = readSourced(path, diags, from);
  if (!own) return undefined;
  if (!expectMap(own, 'a services file', diags) || own.kind !== 'map') return own.kind === 'map' ? own : undefined;
  const inc = own.entries.get('include');
  let merged: Sourced | undefined;
  if (inc) {
    const items = inc.value.kind === 'seq' ? inc.value.items : [inc.value];
    for (const item of items) {
      const pos = positionOf(item.file, item.node);
      if (item.kind !== 'scalar' || typeof item.value !== 'string') {
        diags.push({ code: 'F1002', severity: 'error', message: 'include entries must be file paths', pos });
        continue;
      }
      const included = readWithIncludes(resolveFrom(path, item.value), diags, [...stack, real], pos);
      if (included) merged = merged ? mergeSourced(merged, included) : included;
    }
  }
  const ownEntries = new Map(own.entries);
  ownEntries.delete('include');
  const ownNoInclude: Sourced = { ...own, entries: ownEntries };
  return merged ? mergeSourced(merged, ownNoInclude) : ownNoInclude;
}

function loadServices(path: string, diags: Diagnostic[], from: Position): { services: Service[]; source: Sourced } | undefined {
  const source = readWithIncludes(path, diags, [], from);
  if (!source || source.kind !== 'map') return undefined;
  const services: Service[] = [];
  for (const [name, entry] of source.entries) {
    if (!NAME_RE.test(name)) {
      diags.push({
        code: 'F1007',
        severity: 'error',
        message: `invalid service name '${name}': use letters, digits and dashes only`,
        pos: positionOf(entry.keyFile, entry.keyNode),
      });
      continue;
    }
    if (entry.value.kind !== 'map') {
      diags.push({ code: 'F1002', severity: 'error', message: `service '${name}' must be a mapping of attributes`, pos: locate(entry.value, []) });
      continue;
    }
    const attrs = validate(service, entry.value, diags, { prefix: [name], what: 'service attribute' });
    if (!attrs) continue;
    attrs.containers.forEach((c, i) => {
      if (!NAME_RE.test(c.name)) {
        diags.push({
          code: 'F1007',
          severity: 'error',
          message: `invalid container name '${c.name}' in service '${name}': use letters, digits and dashes only`,
          pos: locate(entry.value, ['containers', i, 'name']),
        });
      }
    });
    if (attrs.enabled) services.push({ name, ...attrs });
  }
  services.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { services, source };
}

/** A group_vars entry Ansible reads as YAML: `<group>.yml`, `<group>.yaml`, or a bare `<group>`. */
const GROUP_VARS_FILE = /^([^.][^.]*)(\.ya?ml)?$/;
const YAML_FILE = /^[^.].*\.ya?ml$/;

function unreadable(path: string, err: unknown): Diagnostic {
  const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
  return { code: 'F1005', severity: 'error', message: `cannot read ${displayPath(path)}: ${reason}` };
}

/** The entries of a directory, sorted; an unreadable directory is a diagnostic, not a crash. */
function listDir(dir: string, diags: Diagnostic[]): string[] {
  try {
    return readdirSync(dir).sort();
  } catch (err) {
    diags.push(unreadable(dir, err));
    return [];
  }
}

function isDirectory(path: string, diags: Diagnostic[]): boolean | undefined {
  try {
    return statSync(path).isDirectory();
  } catch (err) {
    diags.push(unreadable(path, err));
    return undefined;
  }
}

interface GroupVarsEntry {
  group: string;
  files: string[];
  readable: boolean;
}

/**
 * The files holding one group's variables: group_vars/<group>[.yml] or group_vars/<group>/*.yml.
 * Undefined for entries that are not group variables (README.md, dotfiles); `readable: false`
 * when the entry could not be inspected (its diagnostic is already pushed).
 */
function groupVarsFiles(dir: string, name: string, diags: Diagnostic[]): GroupVarsEntry | undefined {
  const p = join(dir, name);
  const isDir = isDirectory(p, diags);
  if (isDir) {
    const files = listDir(p, diags).filter((f) => YAML_FILE.test(f));
    return { group: name, files: files.map((f) => join(p, f)), readable: true };
  }
  const m = GROUP_VARS_FILE.exec(name);
  if (!m) return undefined;
  return { group: m[1], files: isDir === false ? [p] : [], readable: isDir === false };
}

interface GroupVarsDir {
  sources: Map<string, Sourced>;
  encrypted: EncryptedVarsFile[];
  /** Groups with a file that could not be read or parsed (its errors are already reported). */
  broken: Set<string>;
}

/** group_vars/<group>, group_vars/<group>.yml and group_vars/<group>/*.yml next to config.yml. */
function readGroupVarsDir(baseDir: string, diags: Diagnostic[], password: () => string): GroupVarsDir {
  const out: GroupVarsDir = { sources: new Map(), encrypted: [], broken: new Set() };
  const dir = join(baseDir, 'group_vars');
  if (!existsSync(dir)) return out;
  const isDir = isDirectory(dir, diags);
  if (isDir === false) diags.push({ code: 'F1005', severity: 'error', message: `${displayPath(dir)} is not a directory` });
  if (!isDir) {
    out.broken.add('all');
    return out;
  }
  for (const name of listDir(dir, diags)) {
    const found = groupVarsFiles(dir, name, diags);
    if (!found) continue;
    if (!found.readable) out.broken.add(found.group);
    for (const f of found.files) {
      const s = readVarsFile(f, found.group, diags, password, out.encrypted);
      if (!s || !expectMap(s, 'a group_vars file', diags)) {
        out.broken.add(found.group);
        continue;
      }
      const prev = out.sources.get(found.group);
      out.sources.set(found.group, prev ? mergeSourced(prev, s) : s);
    }
  }
  return out;
}

/**
 * A group_vars file, plain or vault-encrypted as a whole (as `ansible-vault
 * encrypt` writes it). An encrypted file is decrypted in memory only, its
 * values marked as such (messages never show them), and it is recorded, still
 * encrypted, in `encrypted`.
 */
function readVarsFile(path: string, group: string, diags: Diagnostic[], password: () => string, encrypted: EncryptedVarsFile[]): Sourced | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    diags.push(unreadable(path, err));
    return undefined;
  }
  if (!isVaultText(text)) return readSourced(path, diags, undefined, text);
  const pos: Position = { file: displayPath(path), line: 1, col: 1 };
  let clear: string;
  try {
    clear = vaultDecrypt(text, password()).toString('utf8');
  } catch (err) {
    if (!(err instanceof FloatUserError)) throw err;
    const why = err.diagnostics.map((d) => d.message).join('; ');
    diags.push({ code: 'F1045', severity: 'error', message: `cannot decrypt this vault-encrypted file: ${why}`, pos });
    return undefined;
  }
  encrypted.push({ group, path, text });
  return readSourced(path, diags, undefined, clear, true);
}

/** Whether any part of a value (or its key) was written in an encrypted file. */
function fromEncrypted(s: Sourced, seen = new Set<Sourced>()): boolean {
  if (s.file.decrypted) return true;
  if (seen.has(s)) return false;
  seen.add(s);
  if (s.kind === 'map') for (const e of s.entries.values()) if (e.keyFile.decrypted || fromEncrypted(e.value, seen)) return true;
  if (s.kind === 'seq') return s.items.some((i) => fromEncrypted(i, seen));
  return false;
}

function normaliseHost(name: string, source: Sourced, diags: Diagnostic[], prefix: string[]): Host | undefined {
  const attrs = validate(hostAttrs, source, diags, { prefix, what: 'host attribute' });
  if (!attrs) return undefined;
  const ips = attrs.ips ?? [attrs.ip, attrs.ip6].filter((x): x is string => !!x);
  if (ips.length === 0) {
    diags.push({ code: 'F1003', severity: 'error', message: `host '${name}' has no 'ips' (or legacy 'ip')`, pos: locate(source, []) });
    return undefined;
  }
  const legacyPublic = [attrs.public_ip, attrs.public_ip6].filter((x): x is string => !!x);
  const public_ips = attrs.public_ips ?? (legacyPublic.length ? legacyPublic : ips);
  const overlays: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) {
    const m = /^ip_(.+)$/.exec(k);
    if (m && typeof v === 'string') overlays[m[1]] = v;
  }
  return {
    name,
    ips,
    public_ips,
    groups: attrs.groups,
    overlays,
    turndown: attrs.turndown,
    shard_id: attrs.shard_id === undefined ? undefined : String(attrs.shard_id),
    resolver_mode: attrs.resolver_mode,
    vars: { ...(plain(source) as Record<string, unknown>), ips, public_ips },
  };
}

const MANDATORY_GLOBALS = ['domain', 'domain_public'];

/**
 * Validates the global variables. A missing mandatory one is F2011, pointing at the
 * file that should define it; when a group_vars/all file failed to load, its own
 * error explains the problem and "missing domain" would only be noise.
 */
function loadGlobals(source: Sourced, allBroken: boolean, diags: Diagnostic[]): Model['globals'] | undefined {
  const found: Diagnostic[] = [];
  const value = validate(globals, source, found, { what: 'global variable' });
  for (const d of found) {
    const missing = d.code === 'F1003' ? MANDATORY_GLOBALS.find((k) => d.subject === k) : undefined;
    if (missing && allBroken) continue;
    const where = 'set it in group_vars/all or in hosts.yml group_vars.all';
    diags.push(missing ? { ...d, code: 'F2011', message: `missing mandatory global variable '${missing}' (${where})`, subject: missing } : d);
  }
  return value as Model['globals'] | undefined;
}

/**
 * Every secret of the passwords file and its includes, in order. A name listed
 * twice is one secret, so the second listing is reported: a warning when it says
 * the same, an error when it asks for something else (only the first would be made).
 */
function loadAllPasswords(path: string, diags: Diagnostic[], from?: Position): PasswordEntry[] {
  const listed: Array<{ entry: PasswordEntry; pos?: Position }> = [];
  loadPasswords(path, diags, [], listed, from);
  const first = new Map<string, { entry: PasswordEntry; pos?: Position }>();
  const out: PasswordEntry[] = [];
  for (const item of listed) {
    const prev = first.get(item.entry.name);
    if (!prev) {
      first.set(item.entry.name, item);
      out.push(item.entry);
      continue;
    }
    // The same file included twice (a.yml and b.yml both include common.yml): one listing.
    if (prev.pos && item.pos && formatPosition(prev.pos) === formatPosition(item.pos)) continue;
    const same = JSON.stringify(prev.entry) === JSON.stringify(item.entry);
    const at = prev.pos ? ` (first at ${formatPosition(prev.pos)})` : '';
    diags.push({
      code: 'F2013',
      severity: same ? 'warning' : 'error',
      message: same
        ? `secret '${item.entry.name}' is listed twice${at}; remove one of them`
        : `secret '${item.entry.name}' is listed twice with different attributes${at}; only one secret can have this name`,
      pos: item.pos,
    });
  }
  return out;
}

function loadPasswords(path: string, diags: Diagnostic[], stack: string[], listed: Array<{ entry: PasswordEntry; pos?: Position }>, from?: Position): void {
  if (stack.includes(path)) {
    const chain = [...stack.slice(stack.indexOf(path)), path].map(displayPath).join(' -> ');
    diags.push({ code: 'F1006', severity: 'error', message: `include cycle: ${chain}`, pos: from });
    return;
  }
  const s = readSourced(path, diags, from);
  if (!s) return;
  if (s.kind === 'map' && s.entries.size === 0) return; // empty file
  if (s.kind !== 'seq') {
    diags.push({ code: 'F1002', severity: 'error', message: 'a passwords file must be a list', pos: locate(s, []) });
    return;
  }
  for (const item of s.items) {
    if (item.kind === 'map' && item.entries.has('include')) {
      const inc = validate(passwordInclude, item, diags);
      if (inc) loadPasswords(resolveFrom(path, inc.include), diags, [...stack, path], listed, locate(item, ['include']));
      continue;
    }
    const e = validate(passwordEntry, item, diags, { what: 'password attribute' });
    if (e) listed.push({ entry: e, pos: locate(item, ['name']) });
  }
}

/** Loads and validates everything config.yml points at. */
export function loadConfig(configPath: string, opts: LoadOptions = {}): LoadResult {
  const diags: Diagnostic[] = [];
  const absConfig = resolve(configPath);
  const baseDir = dirname(absConfig);
  const configSource = readSourced(absConfig, diags);
  if (!configSource) return { diagnostics: diags };
  const cfg = validate(configFile, configSource, diags, { what: 'config.yml attribute' });
  if (!cfg) return { diagnostics: diags };
  const config = {
    ...cfg,
    services_file: resolveFrom(absConfig, cfg.services_file),
    hosts_file: resolveFrom(absConfig, cfg.hosts_file),
    passwords_file: resolveFrom(absConfig, cfg.passwords_file),
    credentials_dir: resolveFrom(absConfig, cfg.credentials_dir),
    vault_password_file: cfg.vault_password_file ? resolveFrom(absConfig, cfg.vault_password_file) : undefined,
    roles_path: cfg.roles_path ? resolveFrom(absConfig, cfg.roles_path) : undefined,
    prometheus_rules_dir: cfg.prometheus_rules_dir ? resolveFrom(absConfig, cfg.prometheus_rules_dir) : undefined,
  };

  const services = loadServices(config.services_file, diags, locate(configSource, ['services_file']));

  // hosts.yml
  const hostsSource = readSourced(config.hosts_file, diags, locate(configSource, ['hosts_file']));
  const hosts: Host[] = [];
  const groupVarSources = new Map<string, Sourced>();
  if (hostsSource && expectMap(hostsSource, 'hosts.yml', diags) && hostsSource.kind === 'map') {
    // Only the top-level keys here: hosts and group_vars are validated entry by entry below.
    validate(hostsFileKeys, hostsSource, diags, { what: 'hosts.yml attribute' });
    const hostsMap = hostsSource.entries.get('hosts')?.value;
    if (hostsMap?.kind === 'map') {
      for (const [name, e] of hostsMap.entries) {
        const src = e.value.kind === 'scalar' && e.value.value === null ? EMPTY_FILE(e.value.file) : e.value;
        const h = normaliseHost(name, src, diags, ['hosts', name]);
        if (h) hosts.push(h);
      }
    } else if (hostsMap) {
      diags.push({ code: 'F1002', severity: 'error', message: "'hosts' must be a mapping of host name to attributes", pos: locate(hostsMap, []) });
    }
    const gv = hostsSource.entries.get('group_vars')?.value;
    if (gv?.kind === 'map') for (const [g, e] of gv.entries) if (e.value.kind === 'map') groupVarSources.set(g, e.value);
  }
  hosts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  // group_vars/ next to config.yml override hosts.yml group_vars, as Ansible's own group_vars do.
  // The vault password is asked for once, and only when an encrypted file needs it.
  let password: { value?: string; error?: unknown } | undefined;
  const vaultPassword = (): string => {
    if (!password) {
      try {
        password = { value: opts.vaultPassword ? opts.vaultPassword() : loadVaultPasswordSync({ fallbackFile: config.vault_password_file }) };
      } catch (error) {
        password = { error };
      }
    }
    if (password.error !== undefined) throw password.error;
    return password.value!;
  };
  const groupVarsDir = readGroupVarsDir(baseDir, diags, vaultPassword);
  for (const [g, s] of groupVarsDir.sources) {
    const prev = groupVarSources.get(g);
    groupVarSources.set(g, prev ? mergeSourced(prev, s) : s);
  }
  const globalsSource: Sourced = groupVarSources.get('all') ?? EMPTY_FILE(configSource.file);
  const globalsValue = loadGlobals(globalsSource, groupVarsDir.broken.has('all'), diags);
  const groupVars: Record<string, Record<string, unknown>> = {};
  for (const [g, s] of groupVarSources) if (g !== 'all') groupVars[g] = plain(s) as Record<string, unknown>;
  const encryptedKeys: Record<string, string[]> = {};
  for (const [g, s] of groupVarSources) {
    if (s.kind !== 'map') continue;
    const keys = [...s.entries].filter(([, e]) => e.keyFile.decrypted || fromEncrypted(e.value)).map(([k]) => k);
    if (keys.length > 0) encryptedKeys[g] = keys.sort();
  }

  // The default passwords.yml may be absent (no secrets); a passwords_file that
  // config.yml names must exist, or every secret in it would silently vanish.
  const passwordsNamed = configSource.kind === 'map' && configSource.entries.has('passwords_file');
  const passwords =
    passwordsNamed || existsSync(config.passwords_file)
      ? loadAllPasswords(config.passwords_file, diags, passwordsNamed ? locate(configSource, ['passwords_file']) : undefined)
      : [];

  if (!services || !hostsSource || !globalsValue) return { diagnostics: diags };
  return {
    diagnostics: diags,
    model: {
      configPath: absConfig,
      baseDir,
      config,
      services: services.services,
      hosts,
      globals: globalsValue,
      groupVars,
      passwords,
      encryptedVars: groupVarsDir.encrypted,
      encryptedKeys,
      sources: { config: configSource, services: services.source, hosts: hostsSource, globals: globalsSource, groupVars: groupVarSources },
    },
  };
}
