// Central logs on the shared hosts: the collector runs on aux1; every host's
// rsyslog forwards its journal there over mutual TLS. Proven from the outside: a
// line a container prints on be1 is found on the collector, tagged, and by
// `float logs`; only fleet hosts' log client certificates are accepted (and only
// fleet hosts reach the port); retention removes old days; a collector outage
// loses nothing and reorders nothing.
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { expect, it } from 'vitest';
import type { ClusterCtx, ClusterSuite } from './suite.js';

const RUN = randomBytes(4).toString('hex');
const COLLECTOR = 'aux1';
const LOG_DIR = '/var/log/float-logs';

interface LogRecord {
  time: string;
  received: string;
  host: string;
  program: string;
  service: string;
  container: string;
  msg: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The records on the collector whose message contains `needle` (a plain word), in file order. */
function findOnCollector(ctx: ClusterCtx, host: string, needle: string): LogRecord[] {
  const r = ctx.on(COLLECTOR, `cat ${LOG_DIR}/${host}/*.jsonl 2>/dev/null | grep -F -- '${needle}' || true`);
  return r.out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogRecord);
}

/** Polls until `count` records containing `needle` are on the collector, or `ms` pass. */
async function waitFor(ctx: ClusterCtx, host: string, needle: string, count: number, ms: number): Promise<{ recs: LogRecord[]; elapsed: number }> {
  const t0 = Date.now();
  let recs: LogRecord[] = [];
  while (Date.now() - t0 < ms) {
    recs = findOnCollector(ctx, host, needle);
    if (recs.length >= count) break;
    await sleep(500);
  }
  return { recs, elapsed: Date.now() - t0 };
}

/** Whether a TCP connection from this machine (not a fleet host) to addr:port opens within 3 s. */
function tcpOpens(addr: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = connect({ host: addr, port, timeout: 3000 });
    s.on('connect', () => {
      s.destroy();
      done(true);
    });
    s.on('timeout', () => {
      s.destroy();
      done(false);
    });
    s.on('error', () => done(false));
  });
}

/** The output lines of `float logs` that are log lines (ssh may add warnings on stderr). */
function printed(out: string): string[] {
  return out.split('\n').filter((l) => /^(\{|\d{4}-\d{2}-\d{2}T)/.test(l));
}

/** One syslog line sent to the collector with openssl s_client from `host`, presenting `certArgs`. */
function sendTls(ctx: ClusterCtx, host: string, certArgs: string, token: string): string {
  const line = `<13>1 2026-01-01T00:00:00Z ${host} tls-probe - - - @cee:{"msg":"${token}"}`;
  return ctx.on(
    host,
    `printf '%s\\n' '${line}' | timeout 5 openssl s_client -connect ${COLLECTOR}.log-collector.${ctx.domain}:6514 -CAfile /etc/credentials/x509/log-client/ca.pem ${certArgs} -quiet 2>&1; echo "exit=$?"`,
  ).out;
}

export const logsSuite: ClusterSuite = {
  name: 'logs',
  services: () => `
log-collector:
  scheduling_group: aux
logs-e2e:
  scheduling_group: logs_e2e
  num_instances: 1
  containers:
    - name: talker
      image: localhost/busybox:latest
      args: /bin/sleep 1000000
`,
  hostGroups: { be1: ['logs_e2e'] },
  // The reference's per-index retention: the longest (10 days) applies to every log.
  globals: () => 'es_log_keep_days: {logstash: 10, http: 5}\n',

  checks(ctx) {
    it('a line a container prints on be1 is on the collector within 10 s, tagged with host be1, its service and container', async () => {
      const token = `logs-e2e-container-${RUN}-${randomBytes(3).toString('hex')}`;
      // Written to the container's own standard output: podman hands it to the journal.
      const w = ctx.on('be1', `podman exec logs-e2e-talker /bin/sh -c 'echo ${token} > /proc/1/fd/1'`);
      expect(w.status, w.out).toBe(0);
      const { recs, elapsed } = await waitFor(ctx, 'be1', token, 1, 10_000);
      expect(recs, `not on the collector after ${elapsed} ms`).toHaveLength(1);
      expect(recs[0]).toMatchObject({ host: 'be1', service: 'logs-e2e', container: 'talker', program: 'logs-e2e-talker', msg: token });
      expect(Date.parse(recs[0].received) - Date.parse(recs[0].time)).toBeLessThan(10_000);
      // testing: true also keeps the reference's text layout.
      const text = ctx.on(COLLECTOR, `grep -F -- '${token}' /var/log/remote/be1/logs-e2e-talker.log`);
      expect(text.out).toMatch(new RegExp(` be1 logs-e2e-talker\\[logs-e2e/talker\\]: ${token}$`));

      const found = ctx.float(['logs', '--service', 'logs-e2e', token]);
      expect(found.status, found.out).toBe(0);
      expect(found.out).toMatch(new RegExp(`^\\S+ be1 logs-e2e-talker\\[logs-e2e/talker\\]: ${token}$`, 'm'));
      const asJson = ctx.float(['logs', '--json', '--host', 'be1', '--since', '10m', token]);
      expect(asJson.status, asJson.out).toBe(0);
      expect(JSON.parse(printed(asJson.out).pop()!)).toMatchObject({ host: 'be1', service: 'logs-e2e', container: 'talker', msg: token });
      // The filters filter: another service, or another host, has no such line (exit 1, nothing printed).
      const other = ctx.float(['logs', '--service', 'log-collector', token]);
      expect(other.status).toBe(1);
      expect(other.out).not.toContain(token);
      const otherHost = ctx.float(['logs', '--host', 'be2', token]);
      expect(otherHost.status).toBe(1);
      expect(otherHost.out).not.toContain(token);
    });

    it('every host forwards its journal: a logger line from each host arrives under its name', async () => {
      for (const h of ['fe1', 'be1', 'be2', 'aux1']) ctx.on(h, `logger -t logs-e2e-probe 'hello-${RUN}-from-${h}'`);
      for (const h of ['fe1', 'be1', 'be2', 'aux1']) {
        const { recs } = await waitFor(ctx, h, `hello-${RUN}-from-${h}`, 1, 15_000);
        expect(recs, h).toHaveLength(1);
        expect(recs[0]).toMatchObject({ host: h, program: 'logs-e2e-probe', service: '' });
      }
    });

    it('the collector accepts only the log client certificates of fleet hosts', async () => {
      const tok = (what: string) => `tls-${what}-${RUN}`;
      // Refused: no certificate; a certificate of float's CA issued to a service (frontend's client
      // certificate, on fe1); a self-signed certificate carrying be2's log client name.
      const none = sendTls(ctx, 'be2', '', tok('none'));
      const service = sendTls(ctx, 'fe1', '-cert /etc/credentials/x509/frontend/client/cert.pem -key /etc/credentials/x509/frontend/client/private_key.pem', tok('service'));
      const selfSigned = ctx.on(
        'be2',
        `cd /tmp && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout forged.key -out forged.pem -days 1 -subj /CN=be2.log-client.${ctx.domain} -addext subjectAltName=DNS:be2.log-client.${ctx.domain} -addext extendedKeyUsage=clientAuth 2>&1`,
      );
      expect(selfSigned.status, selfSigned.out).toBe(0);
      const forged = sendTls(ctx, 'be2', '-cert /tmp/forged.pem -key /tmp/forged.key', tok('forged'));
      // Positive control: the same command with be2's own log client certificate.
      const good = sendTls(ctx, 'be2', '-cert /etc/credentials/x509/log-client/client/cert.pem -key /etc/credentials/x509/log-client/client/private_key.pem', tok('good'));
      const { recs } = await waitFor(ctx, 'be2', tok('good'), 1, 10_000);
      expect(recs, good).toHaveLength(1);
      expect(recs[0]).toMatchObject({ host: 'be2', program: 'tls-probe', msg: tok('good') });
      for (const [what, out] of [['none', none], ['service', service], ['forged', forged]] as const) {
        expect(findOnCollector(ctx, 'be2', tok(what)), `${what}: ${out}`).toEqual([]);
        expect(findOnCollector(ctx, 'fe1', tok(what)), `${what}: ${out}`).toEqual([]);
      }
      ctx.on('be2', 'rm -f /tmp/forged.key /tmp/forged.pem');
    });

    it('port 6514 is open to the fleet hosts only', async () => {
      // This machine is on the hosts' network but is not a fleet host.
      expect(await tcpOpens(ctx.ip[COLLECTOR], 6514)).toBe(false);
      // Positive controls: the port is listening (from be2), and this machine reaches aux1's sshd.
      const fromBe2 = ctx.on('be2', `timeout 5 bash -c 'exec 3<>/dev/tcp/${ctx.ip[COLLECTOR]}/6514' && echo open`);
      expect(fromBe2.out).toContain('open');
      expect(await tcpOpens(ctx.ip[COLLECTOR], 22)).toBe(true);
    });

    it('retention: the daily job removes days older than the kept 10 (es_log_keep_days), compresses past days, keeps the rest', () => {
      const day = (n: number) => `$(date -u -d '${n} days ago' +%Y-%m-%d)`;
      const stamp = (n: number) => `$(date -u -d '${n} days ago' +%Y%m%d)`;
      const r = ctx.on(
        COLLECTOR,
        [
          `mkdir -p ${LOG_DIR}/be2 ${LOG_DIR}/retired-host /var/log/remote/be2`,
          `echo '{"msg":"old"}' > ${LOG_DIR}/be2/${day(11)}.jsonl`,
          `echo '{"msg":"old"}' | gzip > ${LOG_DIR}/be2/${day(30)}.jsonl.gz`,
          `echo '{"msg":"recent"}' > ${LOG_DIR}/be2/${day(9)}.jsonl`,
          `echo '{"msg":"old"}' > ${LOG_DIR}/retired-host/${day(40)}.jsonl`,
          `echo old > /var/log/remote/be2/retention-probe.log-${stamp(12)}`,
          `echo recent > /var/log/remote/be2/retention-probe.log-${stamp(2)}`,
          'systemctl start float-log-retention.service',
          `ls ${LOG_DIR}/be2 /var/log/remote/be2; ls -d ${LOG_DIR}/retired-host 2>&1 || true`,
        ].join(' && '),
      );
      expect(r.status, r.out).toBe(0);
      const days = (n: number) => new Date(Date.now() - n * 86400_000).toISOString().slice(0, 10);
      const stamps = (n: number) => days(n).replace(/-/g, '');
      expect(r.out).not.toContain(`${days(11)}.jsonl`);
      expect(r.out).not.toContain(`${days(30)}.jsonl`);
      expect(r.out).toContain(`${days(9)}.jsonl.gz`);
      expect(r.out).not.toContain(`retention-probe.log-${stamps(12)}`);
      expect(r.out).toContain(`retention-probe.log-${stamps(2)}`);
      expect(r.out).toMatch(/retired-host.*No such file/);
      // Today's file is neither compressed nor removed.
      expect(r.out).toContain(`${days(0)}.jsonl`);
      const unit = ctx.on(COLLECTOR, 'systemctl cat float-log-retention.service | grep ExecStart');
      expect(unit.out).toContain('--keep-days 10 ');
      ctx.on(COLLECTOR, `rm -f /var/log/remote/be2/retention-probe.log-*`);
    });
  },

  changes(ctx) {
    it('a 30 s collector outage loses nothing: 100 numbered lines logged meanwhile on be2 all arrive once, in order', async () => {
      const tag = `outage-${RUN}`;
      const stop = ctx.on(COLLECTOR, 'systemctl stop float-log-collector.service && systemctl is-active float-log-collector.service || true');
      expect(stop.out).toMatch(/inactive|failed/);
      const t0 = Date.now();
      try {
        const w = ctx.on('be2', `for i in $(seq 1 100); do logger -t logs-e2e-outage "${tag} line $i"; done`);
        expect(w.status, w.out).toBe(0);
        await sleep(Math.max(0, 30_000 - (Date.now() - t0)));
        // Nothing arrived while the collector was down.
        expect(findOnCollector(ctx, 'be2', tag)).toEqual([]);
      } finally {
        ctx.on(COLLECTOR, 'systemctl start float-log-collector.service');
      }
      const { recs, elapsed } = await waitFor(ctx, 'be2', tag, 100, 60_000);
      await sleep(3000);
      const all = findOnCollector(ctx, 'be2', tag);
      const numbers = all.map((r) => Number(/ line (\d+)$/.exec(r.msg)?.[1]));
      expect(numbers, `after ${elapsed} ms`).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      expect(recs.length).toBeGreaterThanOrEqual(100);
      // float logs prints them in the same order.
      const listed = ctx.float(['logs', '--host', 'be2', tag]);
      expect(printed(listed.out).map((l) => Number(/ line (\d+)$/.exec(l)?.[1]))).toEqual(numbers);
    });
  },
};
