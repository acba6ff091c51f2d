// `npm run bench [-- --rows N]`: the producer, processor and end-to-end benchmarks on the stack's
// own broker configuration (rendered properties, mutual TLS, ACLs), with Kafka's
// ProducerPerformance / ConsumerPerformance and kcat measured in the same run on the same broker, and
// the processor against the Kafka Streams peer doing the same job (bench/streams-peer.ts).
// Prints one table of ratios with the machine's details and writes it as JSON to bench/results/.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePorts } from '../tools/kafka/free-port';
import { repoRoot } from '../tools/kafka/kafka-runtime';
import { loadStack, provisionTopicsAndAcls, serviceEnvs, type TopicNames } from '../tools/local-stack';
import { startService, stopService, type Service } from '../tools/service-process';
import { consumerPerformance, kcatConsume, kcatProduce, producerPerformance } from './anchors';
import { argValue, compileServices, checkAgainstOracle, formatTable, generateDataset, machineInfo, processMiB, runMain, say, servicePid, startBenchBroker, throughput, waitForWindows, writeAnchorPayloads, type BenchBroker, type Row } from './setup';
import { committedWindows, measureStreamsPeer, peakRssLine, peerRows } from './streams-peer';

async function main(): Promise<void> {
  const rows = argValue('--rows', 1_000_000);
  const config = loadStack('dev');
  const compiledDir = compileServices();
  const work = mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  let broker: BenchBroker | undefined;
  const services: Service[] = [];
  try {
    const dataset = await generateDataset(rows, config, work);
    const { csv, expectedWindows } = dataset;
    const settings = config.services.consumer.settings;
    const raw = config.topics.find((t) => t.role === 'raw')!;
    broker = await startBenchBroker(work);
    const tls = broker.tls;
    const { bootstrap, javaClient, kcatClient } = broker;

    // The anchors send the same bytes our producer sends: canonical events as JSON, one per line.
    const solo = await provisionTopicsAndAcls(tls, config, '_solo');
    const e2e = await provisionTopicsAndAcls(tls, config, '_e2e');
    const anchors = await provisionTopicsAndAcls(tls, config, '_anchor');
    const kcatTopics = await provisionTopicsAndAcls(tls, config, '_kcat');
    const { payloadFile, kcatFile, payloadBytes } = writeAnchorPayloads(csv, rows, work);

    const rowsOut: Row[] = [];
    say('anchor: ProducerPerformance');
    const pp = await producerPerformance({ bootstrap, topic: anchors.raw, records: rows, payloadFile, payloadBytes, client: javaClient, workDir: work, compression: 'gzip' });
    rowsOut.push({ benchmark: 'anchor', what: 'Kafka ProducerPerformance (acks=all, idempotent, gzip)', result: pp });
    say('anchor: ConsumerPerformance');
    const cp = await consumerPerformance({ bootstrap, topic: anchors.raw, records: rows, client: javaClient, workDir: work });
    rowsOut.push({ benchmark: 'anchor', what: 'Kafka ConsumerPerformance', result: cp });
    say('anchor: kcat -P / -C');
    const kp = await kcatProduce({ bootstrap, topic: kcatTopics.raw, payloadFile: kcatFile, records: rows, payloadBytes, client: { ...kcatClient, 'compression.codec': 'gzip' } });
    rowsOut.push({ benchmark: 'anchor', what: 'kcat -P (acks=all, idempotent, gzip)', result: kp });
    const kc = await kcatConsume({ bootstrap, topic: kcatTopics.raw, records: rows, client: kcatClient });
    rowsOut.push({ benchmark: 'anchor', what: 'kcat -C', result: kc });

    const envFor = (names: TopicNames, group: string): { producer: Record<string, string>; consumer: Record<string, string> } => {
      const envs = serviceEnvs(tls, config, names, work);
      const producer: Record<string, string> = { ...envs.producer, PRODUCER_FILE: csv, LOG_LEVEL: 'warn' };
      delete producer.PRODUCER_RATE; // as fast as the broker allows
      // Windows close 1 s after the input ends (not the stack's 30 s), so the clock stops at the work.
      return { producer, consumer: { ...envs.consumers[0]!, CONSUMER_GROUP_ID: group, CONSUMER_TRANSACTIONAL_ID_PREFIX: group, CONSUMER_IDLE_TIMEOUT_MS: '1000', LOG_LEVEL: 'warn' } };
    };
    const csvBytes = dataset.bytes;

    say('ours: producer');
    const solo1 = envFor(solo, 'ecommerce-consumer-bench-solo');
    const [p1, c1, p2, c2] = await freePorts(4);
    let started = Date.now();
    const producer = startService('producer', { ...solo1.producer, METRICS_PORT: String(p1) }, path.join(work, 'producer.log'), { compiledDir });
    services.push(producer);
    if ((await producer.exited) !== 0) throw new Error(`the producer failed:\n${producer.tail()}`);
    const producerResult = throughput(rows, (Date.now() - started) / 1000, csvBytes);
    rowsOut.push({ benchmark: 'producer', what: 'our producer: CSV → ecommerce_topic (mTLS, transactional, gzip)', result: producerResult, anchor: 'ProducerPerformance', ratio: producerResult.recordsPerSecond / pp.recordsPerSecond });
    rowsOut.push({ benchmark: 'producer', what: '  the same, against kcat -P', result: producerResult, anchor: 'kcat -P', ratio: producerResult.recordsPerSecond / kp.recordsPerSecond });

    say('ours: processor (raw topic already full)');
    started = Date.now();
    const consumer = startService('consumer', { ...solo1.consumer, METRICS_PORT: String(c1) }, path.join(work, 'consumer.log'), { compiledDir });
    services.push(consumer);
    const done = await waitForWindows(consumer, c1!, expectedWindows, 3_600_000, undefined, { allClosed: true });
    const events = rows - dataset.malformed;
    const processor = throughput(events, (done - started) / 1000, 0);
    rowsOut.push({ benchmark: 'processor', what: 'our consumer: raw → windows committed (2 transactional stages)', result: processor, anchor: 'ConsumerPerformance', ratio: processor.recordsPerSecond / cp.recordsPerSecond });
    const oursPeakMiB = processMiB(servicePid(consumer), 'VmHWM');
    await stopService(consumer);

    const oursWindows = await committedWindows(tls.cluster.kafka(), solo.processed);
    checkAgainstOracle(oursWindows, dataset);
    // The peer a user would otherwise pick, on the same full raw topic, checked against our windows.
    const peers = await measureStreamsPeer({
      tls, rawTopic: solo.raw, settings: { ...settings, idleTimeoutMs: 1000 }, rawPartitions: raw.partitions,
      repartitionPartitions: config.topics.find((t) => t.role === 'repartition')!.partitions,
      processedPartitions: config.topics.find((t) => t.role === 'processed')!.partitions,
      expectWindows: expectedWindows, workDir: work, timeoutMs: 3_600_000, say, ours: oursWindows,
    });
    rowsOut.push(...peerRows(processor, events, peers));
    const peakLine = `${peakRssLine(oursPeakMiB, peers)}; ours and Kafka Streams committed the same ${expectedWindows} windows`;

    say('ours: end to end');
    const both = envFor(e2e, 'ecommerce-consumer-bench-e2e');
    started = Date.now();
    const consumer2 = startService('consumer', { ...both.consumer, METRICS_PORT: String(c2) }, path.join(work, 'consumer-e2e.log'), { compiledDir });
    const producer2 = startService('producer', { ...both.producer, METRICS_PORT: String(p2) }, path.join(work, 'producer-e2e.log'), { compiledDir });
    services.push(consumer2, producer2);
    const done2 = await waitForWindows(consumer2, c2!, expectedWindows, 3_600_000, undefined, { allClosed: true });
    const endToEnd = throughput(rows, (done2 - started) / 1000, csvBytes);
    rowsOut.push({ benchmark: 'end-to-end', what: 'producer start → last window committed', result: endToEnd, anchor: 'ProducerPerformance', ratio: endToEnd.recordsPerSecond / pp.recordsPerSecond });
    await Promise.all([stopService(consumer2), producer2.exited]);

    const machine = machineInfo();
    const peakRss = { oursMiB: oursPeakMiB, streams: peers.map((p) => ({ threads: p.threads, peakRssMiB: p.run.peakRssMiB })) };
    const report = { date: new Date().toISOString(), rows, malformedRows: dataset.malformed, expectedWindows, settings: { ...settings, partitions: raw.partitions, idleTimeoutMs: 1000 }, machine, results: rowsOut, peakRss, peakLine };
    const table = formatTable(report.results);
    process.stdout.write(`\n${rows} generated rows, ${expectedWindows} windows; ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; Node ${machine.node}, Kafka ${machine.kafka}\n\n${table}\n\n${peakLine}\n`);
    const dir = path.join(repoRoot, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${report.date.replace(/[:.]/g, '-')}.json`), JSON.stringify(report, null, 2));
    writeFileSync(path.join(dir, 'latest.json'), JSON.stringify({ ...report, table }, null, 2));
  } finally {
    await Promise.all(services.map((s) => stopService(s, { signal: 'SIGKILL' })));
    await broker?.tls.cluster.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) runMain(main);
