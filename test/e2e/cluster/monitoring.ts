// Monitoring and alerting on the shared cluster hosts: Prometheus (a backend) scrapes
// every target float compiled, an https one over mutual TLS; the prober probes the
// public endpoints through fe1; the firewall opens scrape ports to the prometheus host
// only; a stopped container raises ServiceInstanceDown naming service and host at a
// webhook receiver (python3 http.server on fe1, the `mon-webhook` service: aux1 is the host
// powered off, so the receiver cannot live there), resolved
// once it runs again; powering aux1 off raises HostDown and none of aux1's other alerts.
import { expect, it } from 'vitest';
import { envUp } from '../../../src/env/local-hosts.js';
import type { ClusterCtx, ClusterSuite } from './suite.js';

const WEBHOOK_LOG = '/var/lib/mon-webhook/alerts.jsonl';

interface Alert {
  status: string;
  labels: Record<string, string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function assignments(ctx: ClusterCtx): Record<string, string[]> {
  const r = ctx.float(['schedule', '--json']);
  expect(r.status, r.out).toBe(0);
  return (JSON.parse(r.out) as { assignments: Record<string, string[]> }).assignments;
}

/** A PromQL instant query on the prometheus host. */
function query(ctx: ClusterCtx, host: string, q: string): Array<{ metric: Record<string, string>; value: [number, string] }> {
  const arg = `'query=${q.replace(/'/g, `'\\''`)}'`;
  const r = ctx.on(host, `curl -sS --max-time 10 http://127.0.0.1:9090/api/v1/query --data-urlencode ${arg}`);
  expect(r.status, r.out).toBe(0);
  const body = JSON.parse(r.out) as { status: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  expect(body.status).toBe('success');
  return body.data.result;
}

/** Every alert notification the webhook received so far (one per line, as Alertmanager sent them). */
function received(ctx: ClusterCtx): Alert[] {
  const r = ctx.on('fe1', `cat ${WEBHOOK_LOG} 2>/dev/null || true`);
  return r.out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => (JSON.parse(l) as { alerts: Alert[] }).alerts);
}

/** Polls until `pred` holds on the received alerts, or fails after `ms`. */
async function waitFor(ctx: ClusterCtx, what: string, ms: number, pred: (alerts: Alert[]) => boolean): Promise<Alert[]> {
  const t0 = Date.now();
  for (;;) {
    const alerts = received(ctx);
    if (pred(alerts)) return alerts;
    if (Date.now() - t0 > ms) throw new Error(`no ${what} within ${ms / 1000} s; received:\n${JSON.stringify(alerts.map((a) => [a.status, a.labels]), null, 1)}`);
    await sleep(5000);
  }
}

/** A TCP connection from a host (LocalEnv.tcpFrom): open, refused, timeout (a dropping firewall) or error. */
const tcpFrom = (ctx: ClusterCtx, host: string, target: string, port: number): string => ctx.env.tcpFrom(host, target, port);

export const monitoring: ClusterSuite = {
  name: 'monitoring',
  services: () => `
# A container with a metrics file (busybox httpd), on the backends and aux1, public as mon.example.test.
mon-http:
  scheduling_groups: [backend, aux]
  num_instances: all
  containers:
    - name: main
      image: localhost/busybox:latest
      port: 9180
      args: /bin/sh -c "mkdir -p /tmp/w && echo mon_e2e_up 1 > /tmp/w/metrics && echo ok > /tmp/w/index.html && exec /bin/httpd -f -p 9180 -h /tmp/w"
  monitoring_endpoints:
    - port: 9180
      scheme: http
      labels: {team: e2e}
  public_endpoints:
    - name: mon
      port: 9180
      scheme: http
# Metrics over https demanding a client certificate (openssl s_server -Verify).
mon-tls:
  scheduling_group: backend
  num_instances: 1
  service_credentials:
    - name: mon-tls
  systemd_services: [mon-tls.service]
  monitoring_endpoints:
    - port: 9443
      scheme: https
# The webhook receiver alerts are delivered to.
mon-webhook:
  scheduling_group: frontend
  num_instances: 1
  systemd_services: [mon-webhook.service]
  ports: [9199]
`,
  globals: (l) => `prometheus_scrape_interval: 5s
prometheus_evaluation_interval: 5s
prometheus_alert_for: 20s
alertmanager_group_wait: 10s
alertmanager_group_interval: 10s
alertmanager_repeat_interval: 1h
alert_webhook_receivers:
  - name: e2e
    url: "http://mon-webhook.${l.domain}:9199/alerts"
    send_resolved: true
`,
  files: () => ({
    'monitoring.yml': `- name: Monitoring test services
  hosts: mon_tls
  tasks:
    - name: Metrics directory
      ansible.builtin.file:
        path: /srv/mon-tls
        state: directory
        mode: "0755"
    - name: Metrics file
      ansible.builtin.copy:
        dest: /srv/mon-tls/metrics
        content: "mon_tls_e2e_up 1\\n"
        mode: "0644"
    - name: Unit
      ansible.builtin.copy:
        dest: /etc/systemd/system/mon-tls.service
        mode: "0644"
        content: |
          [Service]
          User=docker-mon-tls
          Group=mon-tls-credentials
          WorkingDirectory=/srv/mon-tls
          ExecStart=/usr/bin/openssl s_server -quiet -accept 9443 -cert /etc/credentials/x509/mon-tls/server/cert.pem -key /etc/credentials/x509/mon-tls/server/private_key.pem -CAfile /etc/credentials/x509/mon-tls/ca.pem -Verify 1 -verify_return_error -WWW
          [Install]
          WantedBy=multi-user.target
      register: unit
    - name: Start
      ansible.builtin.systemd:
        name: mon-tls.service
        daemon_reload: "{{ unit.changed }}"
        enabled: true
        state: started

- name: Webhook receiver
  hosts: mon_webhook
  tasks:
    - name: Directory
      ansible.builtin.file:
        path: /var/lib/mon-webhook
        state: directory
        mode: "0755"
    - name: Receiver
      ansible.builtin.copy:
        dest: /usr/local/bin/mon-webhook
        mode: "0755"
        content: |
          #!/usr/bin/python3
          # Appends every POSTed body (one JSON document) as a line to ${WEBHOOK_LOG}.
          import http.server, json
          class H(http.server.BaseHTTPRequestHandler):
              def do_POST(self):
                  body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                  with open("${WEBHOOK_LOG}", "a") as f:
                      f.write(json.dumps(json.loads(body)) + "\\n")
                  self.send_response(200)
                  self.end_headers()
          http.server.HTTPServer(("", 9199), H).serve_forever()
    - name: Unit
      ansible.builtin.copy:
        dest: /etc/systemd/system/mon-webhook.service
        mode: "0644"
        content: |
          [Service]
          ExecStart=/usr/local/bin/mon-webhook
          [Install]
          WantedBy=multi-user.target
      register: unit
    - name: Start
      ansible.builtin.systemd:
        name: mon-webhook.service
        daemon_reload: "{{ unit.changed }}"
        enabled: true
        state: started
`,
  }),
  playbooks: ['monitoring.yml'],

  checks(ctx) {
    let prom = '';
    let sched: Record<string, string[]> = {};
    it('every scrape target is up, the https one scraped with mutual TLS', async () => {
      sched = assignments(ctx);
      prom = sched['prometheus'][0];
      expect(sched['prometheus']).toHaveLength(1);
      // Give Prometheus a few scrape intervals after the run.
      let up: ReturnType<typeof query> = [];
      for (let i = 0; i < 12; i++) {
        // float's targets carry float_job; a series without it is left from Prometheus'
        // first start with Debian's default configuration (gone 5 minutes after).
        up = query(ctx, prom, 'up').filter((s) => s.metric.float_job !== undefined);
        if (up.length > 0 && up.every((s) => s.value[1] === '1')) break;
        await sleep(5000);
      }
      const down = up.filter((s) => s.value[1] !== '1').map((s) => `${s.metric.job} ${s.metric.instance}`);
      expect(down, 'targets down').toEqual([]);
      const jobs = new Set(up.map((s) => s.metric.job));
      for (const j of ['node', 'frontend-nginx', 'frontend-haproxy', 'prometheus-9090', 'alertmanager-9093', 'prober-9115', 'mon-http-9180', 'mon-tls-9443']) expect(jobs, j).toContain(j);
      expect(up.filter((s) => s.metric.job === 'node').map((s) => s.metric.host).sort()).toEqual(['aux1', 'be1', 'be2', 'fe1']);
      expect(up.filter((s) => s.metric.job === 'mon-http-9180').map((s) => s.metric.host).sort()).toEqual(['aux1', 'be1', 'be2']);
      const tls = up.find((s) => s.metric.job === 'mon-tls-9443')!;
      expect(tls.metric).toMatchObject({ service: 'mon-tls', float_job: 'mon-tls-9443', host: sched['mon-tls'][0] });
      expect(up.find((s) => s.metric.job === 'mon-http-9180')!.metric.team).toBe('e2e');
      // The endpoint demands a client certificate: without one the handshake fails, with prometheus' it serves.
      const url = `https://${sched['mon-tls'][0]}.mon-tls.${ctx.domain}:9443/metrics`;
      const ca = '/etc/credentials/x509/prometheus/ca.pem';
      const noCert = ctx.on(prom, `curl -sS --max-time 5 --cacert ${ca} ${url}`);
      expect(noCert.status, noCert.out).not.toBe(0);
      const withCert = ctx.on(prom, `curl -sS --max-time 5 --cacert ${ca} --cert /etc/credentials/x509/prometheus/client/cert.pem --key /etc/credentials/x509/prometheus/client/private_key.pem ${url}`);
      expect(withCert.out).toContain('mon_tls_e2e_up 1');
      // The samples went through: the metric of the https target is in Prometheus.
      expect(query(ctx, prom, 'mon_tls_e2e_up').map((s) => s.metric.host)).toEqual([sched['mon-tls'][0]]);
    });

    it('every public endpoint has a probe series through every frontend; mon.example.test succeeds', () => {
      const probes = query(ctx, prom, 'probe_success{probe="public_endpoint"}');
      const names = new Set(probes.map((p) => p.metric.server_name));
      expect(names).toContain('mon.example.test');
      for (const p of probes) expect(p.metric.host).toBe('fe1');
      const mon = probes.filter((p) => p.metric.server_name === 'mon.example.test');
      expect(mon.map((p) => p.value[1])).toEqual(['1']);
      // The certificate's expiry is recorded too.
      expect(query(ctx, prom, 'probe_ssl_earliest_cert_expiry{server_name="mon.example.test"}')).toHaveLength(1);
      // Hosts answer the reachability probe; the internal https endpoint's TLS probe (prober's client certificate) succeeds.
      expect(query(ctx, prom, 'probe_success{probe="host"} == 1').map((p) => p.metric.host).sort()).toEqual(['aux1', 'be1', 'be2', 'fe1']);
      expect(query(ctx, prom, 'probe_success{probe="internal_tls",service="mon-tls"}').map((p) => p.value[1])).toEqual(['1']);
    });

    it('scrape ports answer the prometheus host only', () => {
      // node-exporter on aux1, fe1's haproxy metrics, and the metrics port of mon-http on aux1 (also
      // its public endpoint port, so open to the frontend): open from the prometheus host, dropped for the others.
      const other = ['be1', 'be2'].find((h) => h !== prom)!;
      expect(tcpFrom(ctx, prom, ctx.ip.aux1, 9100)).toBe('open');
      expect(tcpFrom(ctx, 'fe1', ctx.ip.aux1, 9100)).toBe('timeout');
      // By the name Prometheus scrapes (fe1's overlay address when both are overlay members:
      // members reach each other's service ports only over the overlay).
      expect(tcpFrom(ctx, prom, `fe1.host.${ctx.domain}`, 8405)).toBe('open');
      expect(tcpFrom(ctx, 'aux1', ctx.ip.fe1, 8405)).toBe('timeout');
      // Positive control of that probe: haproxy does answer on that address (from fe1 itself, over lo).
      expect(tcpFrom(ctx, 'fe1', ctx.ip.fe1, 8405)).toBe('open');
      expect(tcpFrom(ctx, prom, ctx.ip.aux1, 9180)).toBe('open');
      expect(tcpFrom(ctx, other, ctx.ip.aux1, 9180)).toBe('timeout');
    });
  },

  changes(ctx) {
    it('a stopped container raises ServiceInstanceDown naming service and host, then its resolution', async () => {
      const sched = assignments(ctx);
      const victim = sched['mon-http'].filter((h) => h !== 'aux1').sort()[0];
      const before = received(ctx).length;
      const t0 = Date.now();
      const stop = ctx.on(victim, 'systemctl stop mon-http-main.service');
      expect(stop.status, stop.out).toBe(0);
      const isDown = (a: Alert) => a.labels.alertname === 'ServiceInstanceDown' && a.labels.service === 'mon-http' && a.labels.host === victim;
      await waitFor(ctx, `ServiceInstanceDown for mon-http on ${victim}`, 180_000, (all) => all.slice(before).some((a) => isDown(a) && a.status === 'firing'));
      console.log(`ServiceInstanceDown delivered ${((Date.now() - t0) / 1000).toFixed(0)} s after the stop`);
      // Positive control beside it: the other instances were not reported.
      expect(received(ctx).slice(before).filter((a) => a.labels.alertname === 'ServiceInstanceDown' && a.labels.host !== victim)).toEqual([]);
      const start = ctx.on(victim, 'systemctl start mon-http-main.service');
      expect(start.status, start.out).toBe(0);
      await waitFor(ctx, `the resolution of ServiceInstanceDown on ${victim}`, 180_000, (all) => all.slice(before).some((a) => isDown(a) && a.status === 'resolved'));
    }, 400_000);

    it('aux1 powered off raises HostDown, and none of its per-service alerts; it comes back', async () => {
      const before = received(ctx).length;
      const t0 = Date.now();
      ctx.on('aux1', 'systemctl poweroff --no-block');
      await waitFor(ctx, 'HostDown for aux1', 180_000, (all) => all.slice(before).some((a) => a.labels.alertname === 'HostDown' && a.labels.host === 'aux1' && a.status === 'firing'));
      console.log(`HostDown delivered ${((Date.now() - t0) / 1000).toFixed(0)} s after the power-off`);
      // Longer than ServiceInstanceDown needs (for 20s + group_wait 10s): still nothing else about aux1.
      await sleep(40_000);
      const aux = received(ctx).slice(before).filter((a) => a.labels.host === 'aux1');
      expect(aux.map((a) => a.labels.alertname).filter((n) => n !== 'HostDown'), JSON.stringify(aux)).toEqual([]);
      // Power it back on (the other hosts keep running) and wait for its targets.
      await envUp(ctx.env.spec);
      const prom = assignments(ctx)['prometheus'][0];
      const t1 = Date.now();
      for (;;) {
        const up = query(ctx, prom, 'up{host="aux1"}');
        if (up.length > 0 && up.every((s) => s.value[1] === '1')) break;
        if (Date.now() - t1 > 180_000) throw new Error(`aux1's targets not up again: ${JSON.stringify(up)}`);
        await sleep(5000);
      }
      await waitFor(ctx, 'the resolution of HostDown', 120_000, (all) => all.slice(before).some((a) => a.labels.alertname === 'HostDown' && a.status === 'resolved'));
    }, 600_000);
  },
};
