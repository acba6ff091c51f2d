// A dataset file of more than 1 GiB through the dev stack's own producer container, bind-mounted as
// the program mounts `producer.dataset.file`: the file never passes through the deploying process
// (here this test process, which creates the containers over the Docker Engine API and starts no
// other process to deploy). Printed: the time, the producer's peak RSS and the deploying side's.
// Only the broker, topics and ACLs and the producer run: the consumer need not process the gigabyte.
// It costs minutes, so it runs with PIPELINE_LARGE_FILE=1 only, and with a file timeout above
// npm test's 15 minutes on a busy machine:
//   PIPELINE_LARGE_FILE=1 node --import tsx --test --test-timeout=3600000 test/containers/large-file.test.ts
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ContainerRun } from '../../tools/docker/container-run';
import { buildLocalImages, type LocalImages } from '../../tools/images/local-images';
import { repoRoot } from '../../tools/kafka/kafka-runtime';
import { mib, ownPeakRss, peakRssOf } from '../support/peak-rss';
import type { RepeatedCsv } from '../support/repeated-csv';
import { wholeFileReport } from '../support/source-exactly-once';
import { EngineStack, stackConfigForEngine } from './support/engine-stack';
import { override, readStackFile, withCiImages } from './support/stack-files';

const minBytes = 2 ** 30;
const block = { rows: 100_000, seed: 12, malformedRate: 0.001 };

describe('a file of at least 1 GiB through the dev stack\'s producer container (bind mount)', { skip: process.env.PIPELINE_LARGE_FILE === '1' ? false : 'PIPELINE_LARGE_FILE=1 runs it' }, () => {
  let run: ContainerRun;
  let dir: string;
  let file: string;
  let written: RepeatedCsv;
  let writtenS: number;
  let images: LocalImages;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'large-file-'));
    file = path.join(dir, 'large-events.csv');
    // Written by another process: this one's memory is what is measured.
    const started = Date.now();
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--import', 'tsx', path.join(repoRoot, 'test/support/repeated-csv.ts'), file, String(minBytes), String(block.rows), String(block.seed), String(block.malformedRate),
    ]);
    written = JSON.parse(stdout) as RepeatedCsv;
    writtenS = (Date.now() - started) / 1000;
    images = buildLocalImages();
    run = await ContainerRun.begin();
  });
  after(async () => {
    await run?.teardown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the producer container streams the whole file and exits 0; the deploying process never holds it', async (t) => {
    assert.ok(statSync(file).size >= minBytes && written.bytes === statSync(file).size);
    let raw = withCiImages(readStackFile('dev'));
    raw = override(raw, 'producer', 'dataset', { file });
    raw = override(raw, 'producer', 'rate', undefined); // unpaced: as fast as it goes
    const config = await stackConfigForEngine(`dev-large-${run.runId.slice(-6)}`, raw, 1);
    const engine = new EngineStack(config, run, `${config.namePrefix}-net`);
    const producer = engine.serviceSpecs(images.services).producer;
    assert.deepEqual(producer.binds?.map((b) => b.hostPath), [file]);

    let started = Date.now();
    await run.up(engine.network, engine.kafkaSpecs());
    await engine.createTopicsAndAcls();
    const deployS = (Date.now() - started) / 1000;
    started = Date.now();
    await run.add(engine.network, [producer]);
    let producerPeak = 0;
    const sampler = (async () => {
      for (;;) {
        const status = await run.exec(producer.name, ['cat', '/proc/1/status']).catch(() => undefined);
        if (!status || status.exitCode !== 0) return;
        producerPeak = Math.max(producerPeak, peakRssOf(status.stdout) ?? 0);
        await new Promise((r) => setTimeout(r, 1_000));
      }
    })();
    const exitCode = await run.wait(producer.name);
    await sampler;
    const streamS = (Date.now() - started) / 1000;
    const deployingPeak = ownPeakRss();
    t.diagnostic(`file: ${mib(written.bytes)} (${written.bytes} bytes), ${written.rows} rows (${written.malformed} malformed), written in ${writtenS.toFixed(1)} s by a child process`);
    t.diagnostic(`broker, topics and ACLs: ${deployS.toFixed(1)} s; producer container: ${streamS.toFixed(1)} s from its start to its exit (${Math.round(written.rows / streamS)} rows/s)`);
    t.diagnostic(`producer container: peak RSS ${mib(producerPeak)} (VmHWM of its node process, sampled every second)`);
    t.diagnostic(`deploying side (this test process from its start: it creates every container over the Engine API and starts no other process to deploy): peak RSS ${mib(deployingPeak)}`);

    assert.equal(exitCode, 0, await run.logs(producer.name, 40));
    assert.deepEqual(wholeFileReport(await run.logs(producer.name, 20)), { read: written.rows, sent: written.rows - written.malformed, rejected: written.malformed, complete: true });
    assert.ok(producerPeak > 0, 'the producer\'s memory was sampled');
    assert.ok(deployingPeak < written.bytes / 2, `the file did not pass through the deploying process (peak RSS ${mib(deployingPeak)} for a ${mib(written.bytes)} file)`);
  });
});
