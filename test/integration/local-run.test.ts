// `npm run local`: the whole pipeline without Docker or Pulumi shows a summary of the windows and
// the client bundle, then Ctrl-C stops everything and leaves nothing running.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../tools/kafka/kafka-runtime';
import { parseArgs, summarise, SummaryGate, type PipelineSample } from '../../tools/local';

const pids = (pattern: string): string[] => (spawnSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).stdout ?? '').split('\n').filter(Boolean);
/** Processes of this run only (other test runs may be alive): those whose command line or environment names its folders. */
const ours = (pattern: string, folders: string[]): string[] =>
  pids(pattern).filter((pid) => {
    try {
      const seen = `${readFileSync(`/proc/${pid}/cmdline`, 'utf8')}${readFileSync(`/proc/${pid}/environ`, 'utf8')}`;
      return folders.some((f) => seen.includes(f));
    } catch {
      return false; // gone meanwhile
    }
  });

describe('npm run local', () => {
  it('rejects unknown options and bad counts by name', () => {
    assert.throws(() => parseArgs(['--rows', 'many']), /--rows must be a positive integer/);
    assert.throws(() => parseArgs(['--fast']), /unknown option --fast/);
    assert.deepEqual(parseArgs(['--rows', '10', '--exit']), { rows: 10, stack: 'dev', exit: true });
  });

  it('summarises the top categories of each tumbling window', () => {
    const w = (start: number, key: string, revenue: number) => ({ windowKind: 'tumbling', key, windowStartMs: start, windowStart: '', revenue, events: 1, purchases: 1 });
    const text = summarise([w(0, 'category:a', 1), w(0, 'category:b', 5), w(60_000, 'category:a', 2), { ...w(0, 'overall', 9) }, { ...w(0, 'category:c', 3), windowKind: 'sliding' }]);
    assert.match(text, /1970-01-01 00:00 +b 5\.00 \(1 purchases\) · a 1\.00/);
    assert.match(text, /1970-01-01 00:01 +a 2\.00/);
    assert.doesNotMatch(text, /overall|c 3\.00/);
  });

  it('waits for what it summarises: the quiet period starts only once all input is processed, and again at each window (issue 15)', () => {
    const gate = new SummaryGate(12_000, 45_000);
    const at = (seconds: number, s: Partial<PipelineSample>): boolean => gate.ready({ now: seconds * 1000, producing: false, sent: 3000, consumed: 3000, emitted: 0, lag: 0, ...s });
    // The run seen in issue 15: the producer is done and stage 1 has read everything 14 s in, but
    // the window stage is still behind; the first windows are committed seconds later.
    assert.equal(at(2, { producing: true, consumed: 100, lag: 900 }), false);
    assert.equal(at(14, { lag: 2500 }), false, 'not while the window stage is behind');
    assert.equal(at(16, { lag: 0 }), false);
    assert.equal(at(30, {}), false, 'no window yet: wait longer than the quiet period');
    assert.equal(at(32, { emitted: 135 }), false);
    assert.equal(at(40, { emitted: 135 }), false);
    assert.equal(at(44, { emitted: 147 }), false, 'a window closed: quiet again from here');
    assert.equal(at(56, { emitted: 147 }), true);
    // An input spanning less than a window plus its grace closes none: the wait still ends.
    const none = new SummaryGate(12_000, 45_000);
    const sample = (seconds: number): PipelineSample => ({ now: seconds * 1000, producing: false, sent: 10, consumed: 10, emitted: 0, lag: 0 });
    assert.equal(none.ready(sample(10)), false);
    assert.equal(none.ready(sample(54)), false);
    assert.equal(none.ready(sample(55)), true);
  });

  it('runs the pipeline, prints the summary and the bundle, and Ctrl-C leaves nothing running', async () => {
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const child = spawn(process.execPath, ['--import', 'tsx', 'tools/local.ts', '--rows', '3000', '--rate', '3000'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 240_000;
    while (!output.includes('Press Ctrl-C') && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    child.kill('SIGINT');
    assert.equal(await exited, 0, output);
    assert.match(output, /read 3000 = sent \d+ \+ rejected \d+/);
    assert.match(output, /top categories by revenue\n.*\d{4}-\d{2}-\d{2} \d{2}:\d{2} +\w+ \d+\.\d{2}/);
    assert.match(output, /Client bundle \(admin\): .*certs\/local/);
    assert.ok(existsSync(path.join(repoRoot, 'certs', 'local', 'kcat.conf')));
    assert.match(output, /Stopped; nothing is left running/);
    const folders = [/broker files: (\S+)/, /service files and logs: (\S+)/, /Prometheus (http\S+)/].map((re) => re.exec(output)?.[1] ?? 'not printed');
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(ours('kafka\\.Kafka', folders), [], 'a broker JVM of this run survived');
    assert.deepEqual(ours('services/(producer|consumer)/main.ts', folders), [], 'a service of this run survived');
    assert.deepEqual(ours('^prometheus ', [folders[2]!.replace('http://', '')]), [], 'its Prometheus survived');
    for (const folder of folders.slice(0, 2)) assert.equal(existsSync(folder), false, `${folder} should be removed`);
  });
});
