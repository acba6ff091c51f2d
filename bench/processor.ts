// `npm run bench:processor [-- --rows N] [--peer-threads 1,2|none] [--env KEY=VALUE …] [--cpu-prof DIR]`
// (default 5,000,000 rows): the consumer alone on a full raw
// topic, against Kafka's ConsumerPerformance reading the same topic and the Kafka Streams peer doing
// the same job on it (1 and 2 stream threads, its windows checked equal to ours), on the same broker
// in the same run, over mutual TLS with the stack's settings; each processor's peak RSS; and the
// consumer's resident memory as the events go by (after 1M and after 5M events above all), which must
// stay flat: window state is bounded by the open windows, not by the events seen.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { metricNames } from '../services/core/metric-names';
import { freePorts } from '../tools/kafka/free-port';
import { repoRoot } from '../tools/kafka/kafka-runtime';
import { loadStack, provisionTopicsAndAcls, scrapeMetric, serviceEnvs } from '../tools/local-stack';
import { startService, stopService, type Service } from '../tools/service-process';
import { consumerPerformance } from './anchors';
import { argValue, compileServices, checkAgainstOracle, cpuProfileArgs, envFlag, flagValues, formatTable, generateDataset, machineInfo, processMiB, runMain, say, servicePid, startBenchBroker, throughput, waitForWindows, type BenchBroker, type Row } from './setup';
import { committedWindows, measureStreamsPeer, peakRssLine, peerRows } from './streams-peer';

interface RssSample { events: number; rssMiB: number }

async function main(): Promise<void> {
  const rows = argValue('--rows', 5_000_000);
  // Quick runs while changing the consumer: `--peer-threads none` skips the peer (and the results file),
  // `--env` adds consumer settings, `--cpu-prof DIR` writes the consumer's CPU profile there.
  const peerThreadsFlag = flagValues('--peer-threads')[0] ?? '1,2';
  const peerThreads = peerThreadsFlag === 'none' ? [] : peerThreadsFlag.split(',').map(Number);
  if (peerThreads.some((t) => !Number.isInteger(t) || t < 1)) throw new Error(`--peer-threads takes a list of thread counts or 'none' (got ${peerThreadsFlag})`);
  const profileDir = flagValues('--cpu-prof')[0];
  const consumerExtra = envFlag('--env');
  const config = loadStack('dev');
  const compiledDir = compileServices();
  const work = mkdtempSync(path.join(os.tmpdir(), 'bench-processor-'));
  let broker: BenchBroker | undefined;
  const services: Service[] = [];
  try {
    const dataset = await generateDataset(rows, config, work);
    broker = await startBenchBroker(work);
    const topics = await provisionTopicsAndAcls(broker.tls, config, '_processor');
    const envs = serviceEnvs(broker.tls, config, topics, work);
    const [producerPort, consumerPort] = await freePorts(2);

    say(`filling ${topics.raw} with our producer`);
    const producerEnv: Record<string, string> = { ...envs.producer, PRODUCER_FILE: dataset.csv, LOG_LEVEL: 'warn', METRICS_PORT: String(producerPort) };
    delete producerEnv.PRODUCER_RATE;
    const producer = startService('producer', producerEnv, path.join(work, 'producer.log'), { compiledDir });
    services.push(producer);
    if ((await producer.exited) !== 0) throw new Error(`the producer failed:\n${producer.tail()}`);
    const events = rows - dataset.malformed;

    say('anchor: ConsumerPerformance on the same topic');
    const cp = await consumerPerformance({ bootstrap: broker.bootstrap, topic: topics.raw, records: events, client: broker.javaClient, workDir: work });

    say('ours: the consumer on the same topic');
    const group = 'ecommerce-consumer-bench-processor';
    const started = Date.now();
    const consumer = startService('consumer', {
      ...envs.consumers[0]!, CONSUMER_GROUP_ID: group, CONSUMER_TRANSACTIONAL_ID_PREFIX: group,
      // Windows close 1 s after the input ends (not the stack's 30 s), so the clock stops at the work.
      CONSUMER_IDLE_TIMEOUT_MS: '1000', LOG_LEVEL: 'warn', METRICS_PORT: String(consumerPort), ...consumerExtra,
    }, path.join(work, 'consumer.log'), { compiledDir, nodeArgs: profileDir ? cpuProfileArgs(profileDir) : [] });
    services.push(consumer);
    const samples: RssSample[] = [];
    const everyEvents = 500_000;
    const take = (consumed: number): void => {
      samples.push({ events: consumed, rssMiB: processMiB(servicePid(consumer), 'VmRSS') });
      say(`${consumed.toLocaleString('en-US')} events consumed, RSS ${samples[samples.length - 1]!.rssMiB.toFixed(0)} MiB`);
    };
    const sample = async (): Promise<void> => {
      const consumed = await scrapeMetric(consumerPort!, metricNames.consumer.eventsConsumed);
      if (consumed >= (samples.length + 1) * everyEvents) take(consumed);
    };
    const done = await waitForWindows(consumer, consumerPort!, dataset.expectedWindows, 6 * 3_600_000, sample, { allClosed: true });
    take(await scrapeMetric(consumerPort!, metricNames.consumer.eventsConsumed));
    const processor = throughput(events, (done - started) / 1000, 0);
    const oursPeakMiB = processMiB(servicePid(consumer), 'VmHWM');
    await stopService(consumer);

    const oursWindows = await committedWindows(broker.tls.cluster.kafka(), topics.processed);
    checkAgainstOracle(oursWindows, dataset);
    const raw = config.topics.find((t) => t.role === 'raw')!;
    const peers = await measureStreamsPeer({
      tls: broker.tls, rawTopic: topics.raw, settings: { ...config.services.consumer.settings, idleTimeoutMs: 1000 },
      rawPartitions: raw.partitions, repartitionPartitions: config.topics.find((t) => t.role === 'repartition')!.partitions,
      processedPartitions: config.topics.find((t) => t.role === 'processed')!.partitions,
      expectWindows: dataset.expectedWindows, workDir: work, timeoutMs: 6 * 3_600_000, say, threads: peerThreads,
      ours: oursWindows,
    });

    const results: Row[] = [
      { benchmark: 'anchor', what: 'Kafka ConsumerPerformance (same topic)', result: cp },
      { benchmark: 'processor', what: 'our consumer: raw → windows committed (2 transactional stages)', result: processor, anchor: 'ConsumerPerformance', ratio: processor.recordsPerSecond / cp.recordsPerSecond },
      ...peerRows(processor, events, peers),
    ];
    const peakLine = peakRssLine(oursPeakMiB, peers, dataset.expectedWindows);
    // After 1M events, and at the end (every event consumed, every window committed).
    const first = samples.find((s) => s.events >= 1_000_000);
    const last = samples[samples.length - 1]!;
    const rss = { after1M: first, atEnd: last, samples };
    const machine = machineInfo();
    const table = formatTable(results);
    const million = (n: number): string => `${(n / 1e6).toFixed(2)}M`;
    const rssLine = first && first !== last
      ? `consumer RSS: ${first.rssMiB.toFixed(0)} MiB after ${million(first.events)} events, ${last.rssMiB.toFixed(0)} MiB after ${million(last.events)} (×${(last.rssMiB / first.rssMiB).toFixed(2)})`
      : `consumer RSS: ${last.rssMiB.toFixed(0)} MiB after ${million(last.events)} events (run ≥ 2M rows to see it over time)`;
    process.stdout.write(`\n${rows} generated rows, ${dataset.expectedWindows} windows; ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; Node ${machine.node}, Kafka ${machine.kafka}\n\n${table}\n\n${rssLine}\n${peakLine}\n`);
    const peakRss = { oursMiB: oursPeakMiB, streams: peers.map((p) => ({ threads: p.threads, peakRssMiB: p.run.peakRssMiB })) };
    const report = { date: new Date().toISOString(), rows, malformedRows: dataset.malformed, expectedWindows: dataset.expectedWindows, settings: config.services.consumer.settings, machine, results, rss, peakRss, table, rssLine, peakLine };
    if (peerThreads.length === 0 || Object.keys(consumerExtra).length > 0 || profileDir) {
      say('a quick run (no peer, or other settings): bench/results is left as it was');
    } else {
      const dir = path.join(repoRoot, 'bench', 'results');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'processor-latest.json'), JSON.stringify(report, null, 2));
    }
  } finally {
    await Promise.all(services.map((s) => stopService(s, { signal: 'SIGKILL' })));
    await broker?.tls.cluster.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) runMain(main);
