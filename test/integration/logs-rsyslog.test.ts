// The log roles' rsyslog configurations, rendered by Ansible from the role
// templates, run by real rsyslogd processes on the loopback: a client
// (float-base-logs) forwarding to a collector (float-infra-log-collector) over
// mutual TLS. The one local substitution: the client reads a syslog socket
// instead of the systemd journal. Certificates come from a throwaway openssl CA.
// Then the collector's query and retention programs on what it wrote.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipUnlessRequired } from '../helpers/prerequisites.js';
import { renderRoleTemplates } from '../helpers/render-role.js';
import { REPO_ROOT } from '../helpers/tree.js';

const missing = ['rsyslogd', 'openssl', 'logger', 'ansible-playbook', 'python3'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const skip = skipUnlessRequired('the rsyslog log-collection tests', missing.length ? `missing ${missing.join(', ')}` : undefined);

const QUERY = join(REPO_ROOT, 'roles/float-infra-log-collector/files/float-logs-query');
const RETENTION = join(REPO_ROOT, 'roles/float-infra-log-collector/files/float-log-retention');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((done) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => done(port));
    });
  });
}

function sh(cmd: string, cwd: string): string {
  const r = spawnSync('sh', ['-c', cmd], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  return r.stdout;
}

/** A CA, the collector's server certificate (localhost), a fleet client, and certificates that must be refused. */
function makePki(dir: string): void {
  const ec = '-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes';
  sh(`openssl req -x509 ${ec} -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign`, dir);
  const issue = (name: string, cn: string, eku: string, ca = 'ca') => {
    sh(`openssl req ${ec} -keyout ${name}.key -out ${name}.csr -subj /CN=${cn}`, dir);
    writeFileSync(join(dir, `${name}.ext`), `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=${eku}\nsubjectAltName=DNS:${cn}\n`);
    sh(`openssl x509 -req -in ${name}.csr -CA ${ca}.pem -CAkey ${ca}.key -CAcreateserial -out ${name}.pem -days 1 -extfile ${name}.ext`, dir);
  };
  issue('server', 'localhost', 'serverAuth');
  issue('be1', 'be1.log-client.infra.test', 'clientAuth');
  // Same CA, a name that is not a fleet host's log client name (a service's client certificate).
  issue('service', 'web.infra.test', 'clientAuth');
  // A fleet host's name, but a server certificate (no clientAuth).
  issue('serveronly', 'be1.log-client.infra.test', 'serverAuth');
  // A fleet host's name, from another CA.
  sh(`openssl req -x509 ${ec} -keyout other-ca.key -out other-ca.pem -days 2 -subj /CN=other-ca -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign`, dir);
  issue('forged', 'be1.log-client.infra.test', 'clientAuth', 'other-ca');
}

interface JsonLine {
  host: string;
  program: string;
  service: string;
  msg: string;
  time: string;
}

describe.skipIf(skip !== undefined)('rsyslog over mutual TLS, as the log roles configure it', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'float-logs-'));
  const d = (...p: string[]) => join(dir, ...p);
  let port = 0;
  let collector: ChildProcess | undefined;
  let client: ChildProcess | undefined;

  const startCollector = () => {
    collector = spawn('rsyslogd', ['-n', '-iNONE', '-f', d('collector/rsyslog.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const startClient = () => {
    client = spawn('rsyslogd', ['-n', '-iNONE', '-f', d('client/rsyslog.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const stop = async (p: ChildProcess | undefined) => {
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  };
  const log = (tag: string, msg: string) => sh(`logger -u ${d('log.sock')} -t ${tag} -- '${msg}'`, dir);
  const lines = (host = 'be1'): JsonLine[] => {
    const hd = d('logs', host);
    if (!existsSync(hd)) return [];
    return readdirSync(hd)
      .filter((f) => f.endsWith('.jsonl'))
      .sort()
      .flatMap((f) => readFileSync(join(hd, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as JsonLine));
  };
  const waitFor = async (pred: () => boolean, ms = 20_000) => {
    const t0 = Date.now();
    while (!pred() && Date.now() - t0 < ms) await sleep(200);
    return pred();
  };

  beforeAll(async () => {
    port = await freePort();
    mkdirSync(d('pki'));
    makePki(d('pki'));
    for (const [cred, kind, cert] of [['log-collector', 'server', 'server'], ['log-client', 'client', 'be1']] as const) {
      mkdirSync(d('creds', cred, kind), { recursive: true });
      copyFileSync(d('pki/ca.pem'), d('creds', cred, 'ca.pem'));
      copyFileSync(d('pki', `${cert}.pem`), d('creds', cred, kind, 'cert.pem'));
      copyFileSync(d('pki', `${cert}.key`), d('creds', cred, kind, 'private_key.pem'));
    }
    for (const x of ['collector', 'client', 'collector-work', 'client-work']) mkdirSync(d(x));
    renderRoleTemplates('float-infra-log-collector', d('collector'), {
      testing: true,
      float_credentials_root: d('creds'),
      float_log_collector_port: port,
      float_log_collector_conf_dir: d('collector'),
      float_log_collector_work_dir: d('collector-work'),
      float_log_dir: d('logs'),
      float_log_remote_dir: d('remote'),
      float_log_client_names: ['be1.log-client.infra.test', 'be2.log-client.infra.test'],
      float_log_hosts: ['be1', 'be2'],
      float_log_forward: null,
    }, [
      { src: 'rsyslog.conf.j2', dest: d('collector/rsyslog.conf') },
      { src: 'hosts.json.j2', dest: d('collector/hosts.json') },
    ]);
    renderRoleTemplates('float-base-logs', d('client'), {
      inventory_hostname: 'be1',
      float_credentials_root: d('creds'),
      float_log_conf_dir: d('client'),
      float_log_work_dir: d('client-work'),
      float_log_collectors: [{ host: 'aux1', name: 'localhost', port }],
      float_log_units: { 'web-http.service': { service: 'web', container: 'http' } },
    }, [
      { src: 'rsyslog.conf.j2', dest: d('client/rsyslog.conf') },
      { src: 'units.json.j2', dest: d('client/units.json') },
      { src: 'containers.json.j2', dest: d('client/containers.json') },
    ]);
    // The local substitution: a syslog socket instead of the journal.
    const conf = readFileSync(d('client/rsyslog.conf'), 'utf8');
    expect(conf).toMatch(/^module\(load="imjournal".*$/m);
    writeFileSync(d('client/rsyslog.conf'), conf.replace(/^module\(load="imjournal".*$/m, `module(load="imuxsock" SysSock.Use="off")\ninput(type="imuxsock" Socket="${d('log.sock')}")`));
    for (const f of ['collector/rsyslog.conf', 'client/rsyslog.conf']) {
      const r = spawnSync('rsyslogd', ['-N1', '-f', d(f)], { encoding: 'utf8' });
      expect(r.status, `${f}: ${r.stderr}`).toBe(0);
    }
    startCollector();
    startClient();
    expect(await waitFor(() => existsSync(d('log.sock')), 10_000)).toBe(true);
  }, 120_000);

  afterAll(async () => {
    await stop(client);
    await stop(collector);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a line arrives as one JSON object under its host, and as text in the testing layout', async () => {
    log('myprog', 'first "quoted" \\ line');
    expect(await waitFor(() => lines().some((l) => l.msg.includes('first')))).toBe(true);
    const rec = lines().find((l) => l.msg.includes('first'))!;
    expect(rec).toMatchObject({ host: 'be1', program: 'myprog', service: '' });
    expect(rec.msg.trim()).toBe('first "quoted" \\ line');
    expect(readFileSync(d('remote/be1/myprog.log'), 'utf8')).toMatch(/ be1 myprog\[\/\]:  ?first "quoted" \\ line\n$/);
  });

  it('only certificates issued by the CA to a fleet host for clients are accepted', async () => {
    const send = (args: string, token: string) =>
      spawnSync('sh', ['-c', `printf '%s\\n' '<13>1 2026-01-01T00:00:00Z be1 probe - - - @cee:{"msg":"${token}"}' | timeout 5 openssl s_client -connect 127.0.0.1:${port} -CAfile ca.pem ${args} -quiet`], { cwd: d('pki'), encoding: 'utf8' });
    for (const who of ['service', 'serveronly', 'forged']) send(`-cert ${who}.pem -key ${who}.key`, `refused-${who}`);
    send('', 'refused-none');
    send('-cert be1.pem -key be1.key', 'accepted-be1');
    expect(await waitFor(() => lines().some((l) => l.msg === 'accepted-be1'))).toBe(true);
    await sleep(500);
    const got = lines().map((l) => l.msg).filter((m) => m.startsWith('refused-') || m.startsWith('accepted-'));
    expect(got).toEqual(['accepted-be1']);
  });

  it('a collector outage loses nothing: 100 lines logged meanwhile arrive once, in order', async () => {
    await stop(collector);
    for (let i = 1; i <= 100; i++) log('seq', `outage ${i}`);
    await sleep(3000);
    expect(lines().filter((l) => l.msg.includes('outage'))).toEqual([]);
    startCollector();
    expect(await waitFor(() => lines().filter((l) => l.msg.includes('outage')).length >= 100, 40_000)).toBe(true);
    await sleep(1000);
    const n = lines().filter((l) => l.msg.includes('outage')).map((l) => Number(l.msg.trim().split(' ')[1]));
    expect(n).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('a client restarted during a collector outage keeps its queue on disk: the queued lines arrive after both are back', async () => {
    await stop(collector);
    // First a line the client fails to send and keeps retrying: when it stops, rsyslog puts
    // the line it is retrying back behind the saved queue, or loses it (a known limit). The
    // numbered lines wait in the queue behind it, none of them in flight.
    log('seq', 'restart 0');
    await sleep(3000);
    for (let i = 1; i <= 50; i++) log('seq', `restart ${i}`);
    await sleep(1000);
    await stop(client);
    startClient();
    expect(await waitFor(() => existsSync(d('log.sock')), 10_000)).toBe(true);
    for (let i = 51; i <= 100; i++) log('seq', `restart ${i}`);
    await sleep(2000);
    startCollector();
    const got = () => new Set(lines().filter((l) => l.msg.includes('restart')).map((l) => Number(l.msg.trim().split(' ')[1])));
    await waitFor(() => [...got()].filter((x) => x > 0).length >= 100, 60_000);
    await sleep(1000);
    // Every line queued behind the one in flight arrives (that one, 0, may or may not).
    const n = [...got()];
    expect(n.filter((x) => x > 0).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('float-logs-query filters by host, service, time and pattern, oldest first; --json prints the records', () => {
    const run = (...args: string[]) => spawnSync('python3', [QUERY, '--dir', d('logs'), ...args], { encoding: 'utf8' });
    const all = run('outage [0-9]+$');
    expect(all.status, all.stderr).toBe(0);
    expect(all.stdout.trim().split('\n').map((l) => Number(l.split(' ').pop()))).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    // be2's one line, of service web (the test's client has no units to tag): the filters' positive controls.
    mkdirSync(d('logs', 'be2'));
    const now = new Date().toISOString();
    writeFileSync(d('logs', 'be2', `${now.slice(0, 10)}.jsonl`), JSON.stringify({ time: now, host: 'be2', program: 'web-http', service: 'web', container: 'http', msg: 'web probe' }) + '\n');
    expect(run('--host', 'be2', 'outage').status).toBe(1);
    expect(run('--host', 'be2', 'web probe').stdout).toMatch(/ be2 web-http\[web\/http\]: web probe\n$/);
    expect(run('--host', 'be1', 'outage 7$').stdout).toMatch(/ be1 seq: {1,2}outage 7\n$/);
    expect(run('--service', 'web', 'outage').status).toBe(1);
    expect(run('--service', 'web', 'probe').stdout).toMatch(/ be2 web-http\[web\/http\]: web probe\n$/);
    expect(run('--since', '2000-01-01', 'outage 7$').stdout.trim().split('\n')).toHaveLength(1);
    expect(run('--since', '2h', 'outage 7$').stdout).toMatch(/ be1 seq: {1,2}outage 7\n$/);
    const j = run('--json', 'accepted-be1');
    expect(JSON.parse(j.stdout)).toMatchObject({ host: 'be1', program: 'probe', msg: 'accepted-be1' });
    expect(run('--since', 'yesterday').status).not.toBe(0);
  });

  it('float-log-retention compresses past days, removes days beyond the kept ones (by the date in the name)', () => {
    const r = d('retention');
    mkdirSync(join(r, 'be1'), { recursive: true });
    mkdirSync(join(r, 'gone'), { recursive: true });
    for (const day of ['2026-03-10', '2026-03-09', '2026-03-08', '2026-02-25', '2026-02-24']) writeFileSync(join(r, 'be1', `${day}.jsonl`), '{"msg":"x"}\n');
    writeFileSync(join(r, 'gone', '2025-01-01.jsonl.gz'), '');
    const out = spawnSync('python3', [RETENTION, '--keep-days', '14', '--dir', r, '--today', '2026-03-10'], { encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    expect(readdirSync(join(r, 'be1')).sort()).toEqual(['2026-02-25.jsonl.gz', '2026-03-08.jsonl.gz', '2026-03-09.jsonl', '2026-03-10.jsonl']);
    expect(existsSync(join(r, 'gone'))).toBe(false);
    expect(spawnSync('sh', ['-c', `gzip -dc ${join(r, 'be1', '2026-02-25.jsonl.gz')}`], { encoding: 'utf8' }).stdout).toBe('{"msg":"x"}\n');
  });
});
