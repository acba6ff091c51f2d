// `npm run bench [-- --rows N]`: the producer, processor and end-to-end benchmarks on the stack's
// own broker configuration (rendered properties, mutual TLS, ACLs), with Kafka's
// ProducerPerformance / ConsumerPerformance and kcat measured in the same run on the same broker, and
// the processor against the Kafka Streams peer doing the same job (bench/streams-peer.ts).
// Nothing is timed on a cold broker (an untimed warm-up first), and the producer runs rounds against
// kcat -P, the median one reported. Prints one table of ratios with the machine's details and writes
// it as JSON to bench/results/.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePorts } from '../tools/kafka/free-port';
import { repoRoot } from '../tools/kafka/kafka-runtime';
import { loadStack, provisionTopicsAndAcls, serviceEnvs, type TopicNames } from '../tools/local-stack';
import { startService, stopService, type Service } from '../tools/service-process';
import { consumerPerformance, kcatConsume, kcatProduce, producerPerformance, type Throughput } from './anchors';
import { argValue, compileServices, checkAgainstOracle, flagValues, formatTable, generateDataset, kcatGzip, machineInfo, medianRound, processMiB, producerGzipLevel, runMain, say, servicePid, startBenchBroker, throughput, waitForWindows, writeAnchorPayloads, type BenchBroker, type PairedRound, type Row } from './setup';
import { committedWindows, measureStreamsPeer, peakRssLine, peerRows } from './streams-peer';

async function main(): Promise<void> {
  const rows = argValue('--rows', 1_000_000);
  const producerRounds = flagValues('--producer-rounds').length > 0 ? Number(flagValues('--producer-rounds')[0]) : 3;
  if (!Number.isInteger(producerRounds) || producerRounds < 1) throw new Error('--producer-rounds must be a whole number ≥ 1');
  const warmRows = Math.min(rows, 200_000);
  const config = loadStack('dev');
  const anchorGzipLevel = producerGzipLevel(config);
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
    const soloTopics = await provisionTopicsAndAcls(tls, config, '_solo');
    const e2eTopics = await provisionTopicsAndAcls(tls, config, '_e2e');
    const anchors = await provisionTopicsAndAcls(tls, config, '_anchor');
    const { payloadFile, kcatFile, payloadBytes } = writeAnchorPayloads(csv, rows, work);

    /** Our producer's environment: as fast as the broker allows (no pace), from `file`. */
    const producerEnv = (names: TopicNames, file: string, port: number): Record<string, string> => {
      const env: Record<string, string> = { ...serviceEnvs(tls, config, names, work).producer, PRODUCER_FILE: file, LOG_LEVEL: 'warn', METRICS_PORT: String(port) };
      delete env.PRODUCER_RATE;
      return env;
    };
    /** Our consumer's environment: windows close 1 s after the input ends (not the stack's 30 s), so the clock stops at the work. */
    const consumerEnv = (names: TopicNames, group: string, port: number): Record<string, string> => ({
      ...serviceEnvs(tls, config, names, work).consumers[0]!, CONSUMER_GROUP_ID: group, CONSUMER_TRANSACTIONAL_ID_PREFIX: group, CONSUMER_IDLE_TIMEOUT_MS: '1000', LOG_LEVEL: 'warn', METRICS_PORT: String(port),
    });
    /** Our producer from `file` into `names`, timed from its start to its exit (seconds). */
    const runProducer = async (names: TopicNames, file: string, log: string): Promise<number> => {
      const [port] = await freePorts(1);
      const started = Date.now();
      const producer = startService('producer', producerEnv(names, file, port!), path.join(work, log), { compiledDir });
      services.push(producer);
      if ((await producer.exited) !== 0) throw new Error(`the producer failed:\n${producer.tail()}`);
      return (Date.now() - started) / 1000;
    };
    /** Our consumer on `names` until `windows` windows are committed and closed: its start and that moment (ms), and its peak RSS. */
    const runConsumer = async (names: TopicNames, group: string, windows: number, log: string, alongside?: () => Service): Promise<{ started: number; done: number; peakMiB: number }> => {
      const [port] = await freePorts(1);
      const started = Date.now();
      const consumer = startService('consumer', consumerEnv(names, group, port!), path.join(work, log), { compiledDir });
      services.push(consumer);
      const other = alongside?.();
      if (other) services.push(other);
      const done = await waitForWindows(consumer, port!, windows, 3_600_000, undefined, { allClosed: true });
      const peakMiB = processMiB(servicePid(consumer), 'VmHWM');
      await Promise.all([stopService(consumer), other?.exited]);
      return { started, done, peakMiB };
    };

    // Not timed: the broker's JIT compiler is busy for its first minutes compiling the code each kind
    // of client exercises, which slows whatever runs first. In one test its compiler threads used
    // 10.6 CPU-seconds during the first end-to-end run on a new broker, then 5.2 and 3.2 in the next
    // two. So kcat -P, our producer and our consumer each run once on a small input first.
    say(`warm-up (not timed): kcat -P, our producer and consumer on ${warmRows} rows`);
    const warmDir = path.join(work, 'warm');
    mkdirSync(warmDir);
    const warm = await generateDataset(warmRows, config, warmDir);
    const warmTopics = await provisionTopicsAndAcls(tls, config, '_warm');
    const warmPayloads = writeAnchorPayloads(warm.csv, warmRows, warmDir);
    await kcatProduce({ bootstrap, topic: (await provisionTopicsAndAcls(tls, config, '_warmkcat')).raw, payloadFile: warmPayloads.kcatFile, records: warmRows, payloadBytes: warmPayloads.payloadBytes, client: kcatGzip(kcatClient, anchorGzipLevel) });
    await runProducer(warmTopics, warm.csv, 'producer-warm.log');
    await runConsumer(warmTopics, 'ecommerce-consumer-bench-warm', warm.expectedWindows, 'consumer-warm.log');

    const rowsOut: Row[] = [];
    say('anchor: ProducerPerformance');
    const pp = await producerPerformance({ bootstrap, topic: anchors.raw, records: rows, payloadFile, payloadBytes, client: javaClient, workDir: work, compression: 'gzip', gzipLevel: anchorGzipLevel });
    rowsOut.push({ benchmark: 'anchor', what: `Kafka ProducerPerformance (acks=all, idempotent, gzip ${anchorGzipLevel})`, result: pp });
    say('anchor: ConsumerPerformance');
    const cp = await consumerPerformance({ bootstrap, topic: anchors.raw, records: rows, client: javaClient, workDir: work });
    rowsOut.push({ benchmark: 'anchor', what: 'Kafka ConsumerPerformance', result: cp });

    // kcat -P, then ours, in turns, each on fresh topics; the round with the median ratio is reported.
    const csvBytes = dataset.bytes;
    const rounds: PairedRound[] = [];
    let kc: Throughput | undefined;
    for (let round = 0; round < producerRounds; round++) {
      say(`anchor kcat -P, then ours: producer (round ${round + 1} of ${producerRounds})`);
      const kcatTopics = await provisionTopicsAndAcls(tls, config, `_kcat${round}`);
      const kp = await kcatProduce({ bootstrap, topic: kcatTopics.raw, payloadFile: kcatFile, records: rows, payloadBytes, client: kcatGzip(kcatClient, anchorGzipLevel) });
      kc ??= await kcatConsume({ bootstrap, topic: kcatTopics.raw, records: rows, client: kcatClient });
      // The first round fills the topic the processor benchmark reads.
      const topics = round === 0 ? soloTopics : await provisionTopicsAndAcls(tls, config, `_solo${round}`);
      rounds.push({ anchor: kp, ours: throughput(rows, await runProducer(topics, csv, `producer-${round}.log`), csvBytes) });
    }
    const median = medianRound(rounds);
    const roundsLine = `Producer rounds, ours / kcat -P run just before: ${rounds.map((r) => `${Math.round(r.ours.recordsPerSecond).toLocaleString('en-US')} / ${Math.round(r.anchor.recordsPerSecond).toLocaleString('en-US')} rows/s = ${(r.ours.recordsPerSecond / r.anchor.recordsPerSecond).toFixed(2)}`).join('; ')}. The table shows the round with the median ratio.`;
    rowsOut.push({ benchmark: 'anchor', what: `kcat -P (acks=all, idempotent, gzip ${anchorGzipLevel}), median round of ${producerRounds}`, result: median.anchor });
    rowsOut.push({ benchmark: 'anchor', what: 'kcat -C', result: kc! });
    const producerResult = median.ours;
    rowsOut.push({ benchmark: 'producer', what: `our producer: CSV → ecommerce_topic (mTLS, transactional, gzip ${anchorGzipLevel}), median round of ${producerRounds}`, result: producerResult, anchor: 'ProducerPerformance', ratio: producerResult.recordsPerSecond / pp.recordsPerSecond });
    rowsOut.push({ benchmark: 'producer', what: '  the same, against kcat -P in that round', result: producerResult, anchor: 'kcat -P', ratio: median.ratio });

    say('ours: processor (raw topic already full)');
    const solo = await runConsumer(soloTopics, 'ecommerce-consumer-bench-solo', expectedWindows, 'consumer.log');
    const events = rows - dataset.malformed;
    const processor = throughput(events, (solo.done - solo.started) / 1000, 0);
    rowsOut.push({ benchmark: 'processor', what: 'our consumer: raw → windows committed (2 transactional stages)', result: processor, anchor: 'ConsumerPerformance', ratio: processor.recordsPerSecond / cp.recordsPerSecond });
    const oursPeakMiB = solo.peakMiB;

    const oursWindows = await committedWindows(tls.cluster.kafka(), soloTopics.processed);
    checkAgainstOracle(oursWindows, dataset);
    // The peer a user would otherwise pick, on the same full raw topic, checked against our windows.
    const peers = await measureStreamsPeer({
      tls, rawTopic: soloTopics.raw, settings: { ...settings, idleTimeoutMs: 1000 }, rawPartitions: raw.partitions,
      repartitionPartitions: config.topics.find((t) => t.role === 'repartition')!.partitions,
      processedPartitions: config.topics.find((t) => t.role === 'processed')!.partitions,
      expectWindows: expectedWindows, workDir: work, timeoutMs: 3_600_000, say, ours: oursWindows,
    });
    rowsOut.push(...peerRows(processor, events, peers));
    const peakLine = peakRssLine(oursPeakMiB, peers, expectedWindows);

    say('ours: end to end');
    const [producerPort] = await freePorts(1);
    const both = await runConsumer(e2eTopics, 'ecommerce-consumer-bench-e2e', expectedWindows, 'consumer-e2e.log',
      () => startService('producer', producerEnv(e2eTopics, csv, producerPort!), path.join(work, 'producer-e2e.log'), { compiledDir }));
    const endToEnd = throughput(rows, (both.done - both.started) / 1000, csvBytes);
    rowsOut.push({ benchmark: 'end-to-end', what: 'producer start → last window committed', result: endToEnd, anchor: 'ProducerPerformance', ratio: endToEnd.recordsPerSecond / pp.recordsPerSecond });

    const machine = machineInfo();
    const peakRss = { oursMiB: oursPeakMiB, streams: peers.map((p) => ({ threads: p.threads, peakRssMiB: p.run.peakRssMiB })) };
    const report = { date: new Date().toISOString(), rows, malformedRows: dataset.malformed, expectedWindows, settings: { ...settings, partitions: raw.partitions, idleTimeoutMs: 1000 }, machine, results: rowsOut, producerRounds: rounds, peakRss, peakLine };
    const table = formatTable(report.results);
    process.stdout.write(`\n${rows} generated rows, ${expectedWindows} windows; ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; Node ${machine.node}, Kafka ${machine.kafka}\n\n${table}\n\n${roundsLine}\n${peakLine}\n`);
    const dir = path.join(repoRoot, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${report.date.replace(/[:.]/g, '-')}.json`), JSON.stringify(report, null, 2));
    writeFileSync(path.join(dir, 'latest.json'), JSON.stringify({ ...report, table, roundsLine }, null, 2));
  } finally {
    await Promise.all(services.map((s) => stopService(s, { signal: 'SIGKILL' })));
    await broker?.tls.cluster.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) runMain(main);
