// The performance anchors the benchmark measures our services against, in the same run and on the
// same broker: Kafka's own ProducerPerformance / ConsumerPerformance and kcat (librdkafka).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { kafkaToolJvmArgs } from '../tools/kafka/kafka-runtime';

export interface Throughput {
  records: number;
  seconds: number;
  recordsPerSecond: number;
  megabytesPerSecond: number;
}

/** Client properties (security.protocol, ssl.*) shared by the Java tools and kcat, in Kafka's own names. */
export type ClientProperties = Record<string, string>;

function run(command: string, args: string[], input?: string): Promise<{ stdout: string; stderr: string; seconds: number }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code === 0) resolve({ stdout, stderr, seconds });
      else reject(new Error(`${command} ${args.slice(-6).join(' ')} exited ${code}:\n${stderr.slice(-2000)}`));
    });
    child.stdin.end(input ?? '');
  });
}

function propertiesFile(path: string, props: ClientProperties): string {
  writeFileSync(path, Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });
  return path;
}

/** ProducerPerformance with acks=all and idempotence, like our producer; payloads from a file of sample events. */
export async function producerPerformance(options: {
  bootstrap: string; topic: string; records: number; payloadFile: string; payloadBytes: number;
  client: ClientProperties; workDir: string; compression?: string; gzipLevel?: number;
}): Promise<Throughput> {
  const config = propertiesFile(`${options.workDir}/producer-perf.properties`, {
    ...options.client, 'bootstrap.servers': options.bootstrap, acks: 'all', 'enable.idempotence': 'true',
    'compression.type': options.compression ?? 'none', 'linger.ms': '5',
    ...(options.gzipLevel === undefined ? {} : { 'compression.gzip.level': String(options.gzipLevel) }),
  });
  const { stdout } = await run('java', [
    ...kafkaToolJvmArgs('org.apache.kafka.tools.ProducerPerformance', { heapMb: 512, server: true }),
    '--topic', options.topic, '--num-records', String(options.records), '--throughput', '-1',
    '--payload-file', options.payloadFile, '--producer.config', config,
  ]);
  // Last summary line: "N records sent, X records/sec (Y MB/sec), …"
  const summary = stdout.trim().split('\n').reverse().find((l) => /records sent, [\d.]+ records\/sec/.test(l));
  const match = summary ? /([\d]+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\)/.exec(summary) : null;
  if (!match) throw new Error(`unexpected ProducerPerformance output:\n${stdout.slice(-1000)}`);
  const records = Number(match[1]);
  const recordsPerSecond = Number(match[2]);
  return { records, seconds: records / recordsPerSecond, recordsPerSecond, megabytesPerSecond: Number(match[3]) };
}

/** ConsumerPerformance reading the whole topic from the beginning. */
export async function consumerPerformance(options: {
  bootstrap: string; topic: string; records: number; client: ClientProperties; workDir: string;
}): Promise<Throughput> {
  const config = propertiesFile(`${options.workDir}/consumer-perf.properties`, { ...options.client, 'auto.offset.reset': 'earliest' });
  const { stdout } = await run('java', [
    ...kafkaToolJvmArgs('org.apache.kafka.tools.ConsumerPerformance', { heapMb: 512, server: true }),
    '--bootstrap-server', options.bootstrap, '--topic', options.topic, '--messages', String(options.records),
    '--consumer.config', config, '--group', `bench-consumer-perf-${Date.now()}`, '--timeout', '60000',
  ]);
  // Header then one CSV line: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const line = stdout.trim().split('\n').filter((l) => /^\d{4}-/.test(l)).pop();
  const cells = line?.split(',').map((c) => c.trim());
  if (!cells || cells.length < 10) throw new Error(`unexpected ConsumerPerformance output:\n${stdout.slice(-1000)}`);
  const records = Number(cells[4]);
  // fetch.* excludes the group join, which our consumer pays too but only once: use the fetch rate.
  const recordsPerSecond = Number(cells[9]);
  return { records, seconds: records / recordsPerSecond, recordsPerSecond, megabytesPerSecond: Number(cells[8]) };
}

function kcatArgs(bootstrap: string, client: ClientProperties): string[] {
  const args = ['-b', bootstrap, '-q'];
  for (const [key, value] of Object.entries(client)) args.push('-X', `${key}=${value}`);
  return args;
}

/** kcat -P from a file of newline-separated payloads (acks=all, idempotent). */
export async function kcatProduce(options: { bootstrap: string; topic: string; payloadFile: string; records: number; payloadBytes: number; client: ClientProperties }): Promise<Throughput> {
  const { seconds } = await run('kcat', [
    ...kcatArgs(options.bootstrap, options.client), '-P', '-t', options.topic,
    '-X', 'acks=all', '-X', 'enable.idempotence=true', '-X', 'linger.ms=5', '-l', options.payloadFile,
  ]);
  return { records: options.records, seconds, recordsPerSecond: options.records / seconds, megabytesPerSecond: (options.records * options.payloadBytes) / 1e6 / seconds };
}

/** kcat -C of exactly `records` records from the beginning. */
export async function kcatConsume(options: { bootstrap: string; topic: string; records: number; client: ClientProperties }): Promise<Throughput> {
  const { stdout, seconds } = await run('kcat', [...kcatArgs(options.bootstrap, options.client), '-C', '-t', options.topic, '-o', 'beginning', '-e', '-c', String(options.records), '-f', '%S\n']);
  const lines = stdout.split('\n').filter(Boolean);
  const bytes = lines.reduce((sum, l) => sum + Number(l), 0);
  return { records: lines.length, seconds, recordsPerSecond: lines.length / seconds, megabytesPerSecond: bytes / 1e6 / seconds };
}
