// Clients we did not write: kcat (librdkafka) and Kafka's own command-line tools (the Java client),
// each run as a process with one identity's certificate files. The security suite uses them to
// check that the brokers refuse what they must, and says which refusal it saw.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { kafkaToolJvmArgs } from '../../tools/kafka/kafka-runtime';

/** One identity's TLS files on disk; `cert`/`key` absent means no client certificate at all. */
export interface IdentityFiles {
  name: string;
  ca: string;
  cert?: string;
  key?: string;
  /** Java client properties file for this identity. */
  javaConfig: string;
}

export interface IdentityPem {
  certPem: string;
  keyPem: string;
}

/** Writes an identity's PEM files and a Java client.properties (PEM key store, Kafka's own names). */
export function writeIdentity(dir: string, name: string, caPem: string, pem?: IdentityPem): IdentityFiles {
  const home = path.join(dir, name);
  mkdirSync(home, { recursive: true });
  const ca = path.join(home, 'ca.pem');
  writeFileSync(ca, caPem);
  const props = ['security.protocol=SSL', 'ssl.truststore.type=PEM', `ssl.truststore.location=${ca}`];
  const files: IdentityFiles = { name, ca, javaConfig: path.join(home, 'client.properties') };
  if (pem) {
    files.cert = path.join(home, 'cert.pem');
    files.key = path.join(home, 'key.pem');
    writeFileSync(files.cert, pem.certPem);
    writeFileSync(files.key, pem.keyPem, { mode: 0o600 });
    const keystore = path.join(home, 'keystore.pem');
    writeFileSync(keystore, `${pem.keyPem.trim()}\n${pem.certPem.trim()}\n`, { mode: 0o600 });
    props.push('ssl.keystore.type=PEM', `ssl.keystore.location=${keystore}`);
  }
  writeFileSync(files.javaConfig, props.join('\n') + '\n', { mode: 0o600 });
  return files;
}

export interface ProcessResult {
  code: number | null;
  output: string;
  timedOut: boolean;
}

export function runProcess(command: string, args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<ProcessResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** What a client run came to, in words a reader of the table recognises. */
export type Outcome =
  | 'ok'
  | 'not TLS (plaintext refused)'
  | 'handshake: no client certificate'
  | 'handshake: untrusted certificate'
  | 'handshake: certificate expired'
  | 'denied: topic'
  | 'denied: group'
  | 'denied: transactional id'
  | 'denied: cluster'
  | `unexpected: ${string}`;

const patterns: [RegExp, Outcome][] = [
  [/connecting to a SSL listener|Disconnected while requesting ApiVersion|Unexpected Kafka request of type|Connection to node -?\d+ .* terminated during authentication/i, 'not TLS (plaintext refused)'],
  [/certificate expired|CertificateExpiredException|alert number 45/i, 'handshake: certificate expired'],
  [/bad certificate|alert number 42|empty certificate chain|Received fatal alert: bad_certificate/i, 'handshake: no client certificate'],
  [/certificate unknown|alert number 46|unknown ca|alert number 48|PKIX path|Received fatal alert: certificate_unknown/i, 'handshake: untrusted certificate'],
  [/Transactional Id authorization failed|TransactionalIdAuthorizationException/i, 'denied: transactional id'],
  [/Group authorization failed|GroupAuthorizationException|Not authorized to access group/i, 'denied: group'],
  [/Cluster authorization failed|ClusterAuthorizationException/i, 'denied: cluster'],
  [/Topic authorization failed|TopicAuthorizationException|Not authorized to access topics/i, 'denied: topic'],
];

export function classify(result: ProcessResult, success: (output: string) => boolean): Outcome {
  for (const [pattern, outcome] of patterns) if (pattern.test(result.output)) return outcome;
  if (!result.timedOut && result.code === 0 && success(result.output)) return 'ok';
  const tail = result.output.trim().split('\n').slice(-3).join(' | ').slice(0, 300);
  return `unexpected: exit ${result.code}${result.timedOut ? ' (timed out)' : ''}: ${tail}`;
}

// ---- kcat ---------------------------------------------------------------------------------------

function kcatSecurity(id: IdentityFiles | 'plaintext'): string[] {
  if (id === 'plaintext') return ['-X', 'security.protocol=plaintext'];
  const args = ['-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${id.ca}`];
  if (id.cert && id.key) args.push('-X', `ssl.certificate.location=${id.cert}`, '-X', `ssl.key.location=${id.key}`);
  return args;
}

/** kcat -P of one record; librdkafka reports delivery failures on stderr and exits non-zero. */
export async function kcatProduce(bootstrap: string, id: IdentityFiles | 'plaintext', topic: string, extra: string[] = []): Promise<Outcome> {
  const result = await runProcess('kcat', ['-b', bootstrap, ...kcatSecurity(id), '-P', '-t', topic, '-X', 'message.timeout.ms=15000', ...extra], {
    input: 'security-suite-record\n',
    timeoutMs: 40_000,
  });
  return classify(result, (output) => !/ERROR|Delivery failed/i.test(output));
}

/** kcat -C of the first record, in a consumer group (-G) or with plain assignment. */
export async function kcatConsume(bootstrap: string, id: IdentityFiles, topic: string, group?: string): Promise<Outcome> {
  const args = group
    ? ['-b', bootstrap, ...kcatSecurity(id), '-G', group, '-X', 'auto.offset.reset=earliest', '-c', '1', '-e', topic]
    : ['-b', bootstrap, ...kcatSecurity(id), '-C', '-t', topic, '-o', 'beginning', '-c', '1', '-e'];
  const result = await runProcess('kcat', args, { timeoutMs: 30_000 });
  return classify(result, (output) => output.includes('security-suite-record') || output.includes('Reached end'));
}

/** kcat -L: which of the given topics the identity may see in metadata. */
export async function kcatVisibleTopics(bootstrap: string, id: IdentityFiles, topics: string[]): Promise<string[] | Outcome> {
  const result = await runProcess('kcat', ['-b', bootstrap, ...kcatSecurity(id), '-L', '-J'], { timeoutMs: 30_000 });
  if (result.code !== 0) return classify(result, () => false);
  const json = result.output.slice(result.output.indexOf('{'));
  const meta = JSON.parse(json) as { topics: { topic: string; error?: string }[] };
  return meta.topics.filter((t) => topics.includes(t.topic) && !t.error).map((t) => t.topic);
}

// ---- Kafka's own tools (Java client) -------------------------------------------------------------

async function javaTool(mainClass: string, args: string[], input?: string, timeoutMs = 60_000): Promise<ProcessResult> {
  return runProcess('java', [...kafkaToolJvmArgs(mainClass), ...args], { ...(input !== undefined ? { input } : {}), timeoutMs });
}

/** kafka-console-producer.sh: one record with acks=all. */
export async function javaProduce(bootstrap: string, id: IdentityFiles, topic: string, props: Record<string, string> = {}): Promise<Outcome> {
  const propArgs = Object.entries({ 'max.block.ms': '15000', 'delivery.timeout.ms': '20000', 'request.timeout.ms': '10000', ...props }).flatMap(([k, v]) => ['--producer-property', `${k}=${v}`]);
  const result = await javaTool('org.apache.kafka.tools.ConsoleProducer', [
    '--bootstrap-server', bootstrap, '--topic', topic, '--producer.config', id.javaConfig, '--request-required-acks', 'all', ...propArgs,
  ], 'security-suite-record\n');
  return classify(result, (output) => !/ERROR|Exception/.test(output));
}

/** kafka-console-consumer.sh: the first record, in the given group. */
export async function javaConsume(bootstrap: string, id: IdentityFiles, topic: string, group: string): Promise<Outcome> {
  const result = await javaTool('org.apache.kafka.tools.consumer.ConsoleConsumer', [
    '--bootstrap-server', bootstrap, '--topic', topic, '--group', group, '--from-beginning', '--max-messages', '1',
    '--timeout-ms', '20000', '--consumer.config', id.javaConfig,
  ]);
  return classify(result, (output) => output.includes('security-suite-record'));
}

/** ProducerPerformance with a transactional id: the transactional producer path of the Java client. */
export async function javaTransactionalProduce(bootstrap: string, id: IdentityFiles, topic: string, transactionalId: string): Promise<Outcome> {
  const result = await javaTool('org.apache.kafka.tools.ProducerPerformance', [
    '--topic', topic, '--num-records', '1', '--throughput', '-1', '--record-size', '16', '--transactional-id', transactionalId,
    '--producer.config', id.javaConfig, '--producer-props', `bootstrap.servers=${bootstrap}`, 'max.block.ms=15000', 'transaction.timeout.ms=10000',
  ]);
  return classify(result, (output) => /1 records sent/.test(output));
}

/** kafka-topics.sh --create then --describe. */
export async function javaCreateTopic(bootstrap: string, id: IdentityFiles, topic: string): Promise<Outcome> {
  const create = await javaTool('org.apache.kafka.tools.TopicCommand', [
    '--bootstrap-server', bootstrap, '--command-config', id.javaConfig, '--create', '--topic', topic, '--partitions', '1', '--replication-factor', '1',
  ]);
  const created = classify(create, (output) => output.includes(`Created topic ${topic}`));
  if (created !== 'ok') return created;
  const describe = await javaTool('org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', bootstrap, '--command-config', id.javaConfig, '--describe', '--topic', topic]);
  return classify(describe, (output) => output.includes(`Topic: ${topic}`));
}

/** kafka-acls.sh --add then --list for a principal on a topic. */
export async function javaAddAndListAcl(bootstrap: string, id: IdentityFiles, principal: string, topic: string): Promise<Outcome> {
  const add = await javaTool('org.apache.kafka.tools.AclCommand', [
    '--bootstrap-server', bootstrap, '--command-config', id.javaConfig, '--add', '--allow-principal', `User:${principal}`, '--operation', 'Read', '--topic', topic,
  ]);
  const added = classify(add, (output) => /Adding ACLs/i.test(output));
  if (added !== 'ok') return added;
  const list = await javaTool('org.apache.kafka.tools.AclCommand', ['--bootstrap-server', bootstrap, '--command-config', id.javaConfig, '--list', '--topic', topic]);
  return classify(list, (output) => output.includes(`User:${principal}`));
}
