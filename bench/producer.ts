// `npm run bench:producer [-- --rows N] [--repeat K] [--gzip-level L] [--cpu-prof DIR] [--env KEY=VALUE …] [--variant KEY=VALUE …]`
// (default 1,000,000 rows, 2 repeats): the producer alone against kcat -P on the same broker in the
// same run, alternating the two so that a loaded machine slows both alike. For measuring producer
// changes quickly; `npm run bench` gives the numbers of record. `--cpu-prof DIR` writes the
// producer's CPU profiles there; `--env` passes PRODUCER_* settings (batch sizes, compression);
// `--variant` runs the producer a second time in each round with these settings on top, to compare.
// `--gzip-level L` compresses at level L on both sides (ours and kcat -P; default our producer's).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipLevelRange } from '../services/producer/config';
import { writeGeneratedCsv } from '../services/producer/generator';
import { freePorts } from '../tools/kafka/free-port';
import { loadStack, provisionTopicsAndAcls, serviceEnvs } from '../tools/local-stack';
import { startService, type Service } from '../tools/service-process';
import { kcatProduce } from './anchors';
import { argValue, compileServices, cpuProfileArgs, processCpuSeconds, envFlag, flagValues, kcatGzip, medianRound, processMiB, producerGzipLevel, runMain, say, servicePid, startBenchBroker, throughput, writeAnchorPayloads, type BenchBroker, type PairedRound } from './setup';

async function main(): Promise<void> {
  const rows = argValue('--rows', 1_000_000);
  const repeat = flagValues('--repeat').length > 0 ? Number(flagValues('--repeat')[0]) : 2;
  const profileDir = flagValues('--cpu-prof')[0];
  const config = loadStack('dev');
  const gzipLevel = flagValues('--gzip-level').length > 0 ? Number(flagValues('--gzip-level')[0]) : producerGzipLevel(config);
  const { min, max } = gzipLevelRange;
  if (!Number.isInteger(gzipLevel) || gzipLevel < min || gzipLevel > max) throw new Error(`--gzip-level takes a whole number from ${min} to ${max} (got ${flagValues('--gzip-level')[0]})`);
  const extraEnv = { PRODUCER_GZIP_LEVEL: String(gzipLevel), ...envFlag('--env') };
  const variants: [string, Record<string, string>][] = [['ours', {}]];
  if (flagValues('--variant').length > 0) variants.push([flagValues('--variant').join(' '), envFlag('--variant')]);
  const compiledDir = compileServices();
  const work = mkdtempSync(path.join(os.tmpdir(), 'bench-producer-'));
  let broker: BenchBroker | undefined;
  const services: Service[] = [];
  try {
    say(`generating ${rows} rows`);
    const csv = path.join(work, 'events.csv');
    await writeGeneratedCsv(csv, { rows, seed: 42, eventsPerSecond: 200, outOfOrderMs: 5_000, lateRate: 0.001, lateByMs: 600_000, malformedRate: 0.001 });
    const { kcatFile, payloadBytes } = writeAnchorPayloads(csv, rows, work);
    broker = await startBenchBroker(work);
    const { bootstrap, kcatClient } = broker;
    const lines: string[] = [];
    const rounds: PairedRound[] = [];
    for (let i = 0; i < repeat; i++) {
      const kcatTopics = await provisionTopicsAndAcls(broker.tls, config, `_kcat${i}`);
      const kp = await kcatProduce({ bootstrap, topic: kcatTopics.raw, payloadFile: kcatFile, records: rows, payloadBytes, client: kcatGzip(kcatClient, gzipLevel) });
      for (const [v, [name, variantEnv]] of variants.entries()) {
        const topics = await provisionTopicsAndAcls(broker.tls, config, `_ours${i}_${v}`);
        const env: Record<string, string> = { ...serviceEnvs(broker.tls, config, topics, work).producer, PRODUCER_FILE: csv, LOG_LEVEL: 'warn', ...extraEnv, ...variantEnv };
        delete env.PRODUCER_RATE;
        const [port] = await freePorts(1);
        const started = Date.now();
        const producer = startService('producer', { ...env, METRICS_PORT: String(port) }, path.join(work, `producer-${i}-${v}.log`), { compiledDir, nodeArgs: profileDir ? cpuProfileArgs(profileDir) : [] });
        services.push(producer);
        let peakMiB = 0;
        let cpuSeconds = 0;
        const sampler = setInterval(() => {
          try {
            peakMiB = Math.max(peakMiB, processMiB(servicePid(producer), 'VmRSS'));
            cpuSeconds = processCpuSeconds(servicePid(producer));
          } catch {
            // not started yet, or gone
          }
        }, 200);
        const code = await producer.exited;
        clearInterval(sampler);
        if (code !== 0) throw new Error(`the producer failed:\n${producer.tail()}`);
        const seconds = (Date.now() - started) / 1000;
        const ours = rows / seconds;
        if (v === 0) rounds.push({ ours: throughput(rows, seconds, 0), anchor: kp });
        const line = `run ${i + 1}: ${name} ${Math.round(ours)} rows/s, kcat -P ${Math.round(kp.recordsPerSecond)} rows/s, ratio ${(ours / kp.recordsPerSecond).toFixed(2)}, peak RSS ${Math.round(peakMiB)} MiB, CPU ${cpuSeconds.toFixed(1)} s (to the last sample, every 0.2 s)`;
        say(line);
        lines.push(line);
      }
    }
    const median = medianRound(rounds);
    lines.push(`median round of ${rounds.length} (as npm run bench reports it): ours ${Math.round(median.ours.recordsPerSecond)} rows/s, kcat -P ${Math.round(median.anchor.recordsPerSecond)} rows/s, ratio ${median.ratio.toFixed(2)}`);
    process.stdout.write(`${rows} rows, gzip level ${gzipLevel} on both sides; ${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n${lines.join('\n')}\n`);
  } finally {
    for (const s of services) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    await broker?.tls.cluster.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) runMain(main);
