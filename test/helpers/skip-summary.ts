// A vitest reporter that ends every run with how many tests were skipped and
// where, so a test that cannot run here (no root, a missing tool) is never a
// silent pass. Configured in vitest.config.ts next to the default reporter.
import type { Reporter, TestModule } from 'vitest/node';

export default class SkipSummary implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let total = 0;
    let skipped = 0;
    const perFile: string[] = [];
    for (const m of modules) {
      let n = 0;
      for (const t of m.children.allTests()) {
        total++;
        if (t.result().state === 'skipped') n++;
      }
      skipped += n;
      if (n > 0) perFile.push(`  ${m.relativeModuleId}: ${n}`);
    }
    const lines = [`skipped: ${skipped} of ${total} tests${skipped ? ':' : ''}`, ...perFile];
    process.stdout.write(`\n${lines.join('\n')}\n`);
  }
}
