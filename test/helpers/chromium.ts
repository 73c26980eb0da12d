// Headless Chromium driven over the DevTools protocol through --remote-debugging-pipe
// (fd 3: commands in, fd 4: replies and events out, NUL-terminated JSON), so no
// WebSocket client is needed. One browser, one page; each visit records the console
// errors, exceptions, failed requests and HTTP errors of the navigation.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export function chromiumMissing(): string | undefined {
  const r = spawnSync('chromium', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : 'chromium is not installed';
}

export interface VisitLog {
  consoleErrors: string[];
  exceptions: string[];
  failedRequests: string[];
  dialogs: string[];
}

type Msg = { id?: number; method?: string; params?: any; result?: any; error?: { message: string }; sessionId?: string };

export class Browser {
  private child: ChildProcess;
  private out: Writable;
  private nextId = 1;
  private pending = new Map<number, { res: (v: any) => void; rej: (e: Error) => void }>();
  private listeners: ((m: Msg) => void)[] = [];
  private profile: string;
  private session = '';
  private log: VisitLog = { consoleErrors: [], exceptions: [], failedRequests: [], dialogs: [] };

  private constructor() {
    this.profile = mkdtempSync(join(tmpdir(), 'float-chromium-'));
    this.child = spawn(
      'chromium',
      ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions', '--remote-debugging-pipe', `--user-data-dir=${this.profile}`, 'about:blank'],
      { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] },
    );
    this.out = this.child.stdio[3] as Writable;
    let buf = '';
    (this.child.stdio[4] as Readable).on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      let i;
      while ((i = buf.indexOf('\0')) >= 0) {
        const m = JSON.parse(buf.slice(0, i)) as Msg;
        buf = buf.slice(i + 1);
        if (m.id !== undefined && this.pending.has(m.id)) {
          const p = this.pending.get(m.id)!;
          this.pending.delete(m.id);
          if (m.error) p.rej(new Error(m.error.message));
          else p.res(m.result);
        } else for (const l of this.listeners) l(m);
      }
    });
  }

  send(method: string, params: object = {}, session = this.session): Promise<any> {
    const id = this.nextId++;
    const msg: Msg & { params: object } = { id, method, params };
    if (session) msg.sessionId = session;
    return new Promise((res, rej) => {
      this.pending.set(id, { res, rej });
      this.out.write(JSON.stringify(msg) + '\0');
    });
  }

  static async launch(): Promise<Browser> {
    const b = new Browser();
    const { targetId } = await b.send('Target.createTarget', { url: 'about:blank' }, '');
    const { sessionId } = await b.send('Target.attachToTarget', { targetId, flatten: true }, '');
    b.session = sessionId;
    b.listeners.push((m) => {
      if (m.sessionId !== b.session) return;
      const p = m.params;
      if (m.method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'assert')) {
        b.log.consoleErrors.push(p.args.map((a: any) => a.value ?? a.description).join(' '));
      } else if (m.method === 'Runtime.exceptionThrown') {
        b.log.exceptions.push(p.exceptionDetails.exception?.description ?? p.exceptionDetails.text);
      } else if (m.method === 'Log.entryAdded' && p.entry.level === 'error') {
        b.log.consoleErrors.push(`${p.entry.source}: ${p.entry.text} ${p.entry.url ?? ''}`.trim());
      } else if (m.method === 'Network.loadingFailed' && !p.canceled) {
        b.log.failedRequests.push(`${p.requestId} ${p.errorText}`);
      } else if (m.method === 'Network.responseReceived' && p.response.status >= 400) {
        b.log.failedRequests.push(`${p.response.status} ${p.response.url}`);
      } else if (m.method === 'Page.javascriptDialogOpening') {
        b.log.dialogs.push(p.message);
        void b.send('Page.handleJavaScriptDialog', { accept: false });
      }
    });
    for (const d of ['Page', 'Runtime', 'Log', 'Network']) await b.send(`${d}.enable`);
    await b.send('Emulation.setDeviceMetricsOverride', { width: 1280, height: 900, deviceScaleFactor: 1, mobile: false });
    return b;
  }

  /** Navigates and waits for the load event, then `settleMs` more (scripts' fetches). */
  async visit(url: string, settleMs = 100): Promise<VisitLog> {
    this.log = { consoleErrors: [], exceptions: [], failedRequests: [], dialogs: [] };
    const loaded = new Promise<void>((res) => {
      const l = (m: Msg) => {
        if (m.sessionId === this.session && m.method === 'Page.loadEventFired') {
          this.listeners.splice(this.listeners.indexOf(l), 1);
          res();
        }
      };
      this.listeners.push(l);
    });
    const nav = await this.send('Page.navigate', { url });
    if (nav.errorText) this.log.failedRequests.push(`${nav.errorText} ${url}`);
    await loaded;
    await new Promise((r) => setTimeout(r, settleMs));
    return this.log;
  }

  /** Evaluates an expression in the page and returns its value (JSON-serialisable). */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(`evaluate: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value as T;
  }

  async screenshot(): Promise<Buffer> {
    const { cssContentSize } = await this.send('Page.getLayoutMetrics');
    const r = await this.send('Page.captureScreenshot', {
      format: 'png',
      captureBeyondViewport: true,
      clip: { x: 0, y: 0, width: Math.min(1400, Math.ceil(cssContentSize.width)), height: Math.min(4000, Math.ceil(cssContentSize.height)), scale: 1 },
    });
    return Buffer.from(r.data, 'base64');
  }

  async close(): Promise<void> {
    const done = new Promise((r) => this.child.once('exit', r));
    try {
      await Promise.race([this.send('Browser.close', {}, ''), new Promise((r) => setTimeout(r, 3000))]);
    } catch {
      // the pipe closes as the browser exits
    }
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(t);
    rmSync(this.profile, { recursive: true, force: true });
  }
}
