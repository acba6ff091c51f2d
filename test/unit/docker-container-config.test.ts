// The pure half of tools/docker: a ContainerSpec becomes the Engine API body and upload archive the
// docker provider would produce, and start order follows dependsOn.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { bindVersion, bindVersionLabel, type ContainerSpec } from '../../infra/render/container-spec';
import { containerCreateBody, healthcheckCommand, startWaves, uploadRequest, uploadRequests } from '../../tools/docker/container-config';
import { demultiplex } from '../../tools/docker/engine';
import { splitUstarPath, tarArchive } from '../../tools/docker/tar';

function spec(fields: Partial<ContainerSpec> & Pick<ContainerSpec, 'name'>): ContainerSpec {
  return { image: 'img', env: {}, ports: [], uploads: [], volumes: [], networkAliases: [], restart: 'no', dependsOn: [], ...fields };
}

/** Extracts with GNU tar, keeping owners, and returns the folder. */
function extract(archive: Buffer): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tar-test-'));
  const file = path.join(dir, 'a.tar');
  writeFileSync(file, archive);
  const result = spawnSync('tar', ['-x', '--same-owner', '-p', '-f', file, '-C', dir], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return dir;
}

describe('tar archive for uploads', () => {
  it('holds each file with its content, mode and owner, readable by GNU tar', () => {
    const archive = tarArchive([
      { path: '/etc/app/key.pem', content: Buffer.from('secret\n'), mode: 0o600, uid: 1000, gid: 1000 },
      { path: '/etc/app/run.sh', content: Buffer.alloc(700, 'x'), mode: 0o755 },
    ]);
    assert.equal(archive.length % 512, 0);
    const dir = extract(archive);
    try {
      assert.equal(readFileSync(path.join(dir, 'etc/app/key.pem'), 'utf8'), 'secret\n');
      const key = statSync(path.join(dir, 'etc/app/key.pem'));
      assert.deepEqual({ mode: key.mode & 0o7777, uid: key.uid, gid: key.gid }, { mode: 0o600, uid: 1000, gid: 1000 });
      assert.equal(statSync(path.join(dir, 'etc/app/run.sh')).mode & 0o7777, 0o755);
      assert.equal(readFileSync(path.join(dir, 'etc/app/run.sh')).length, 700);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('splits long paths into ustar prefix and name, and rejects paths it cannot represent', () => {
    const long = `/${'d'.repeat(90)}/${'e'.repeat(40)}/file.txt`;
    const { name, prefix } = splitUstarPath(long);
    assert.equal(`${prefix}/${name}`, long.slice(1));
    assert.throws(() => splitUstarPath('/a/../etc/passwd'), /invalid path/);
    assert.throws(() => splitUstarPath(`/${'x'.repeat(300)}`), /too long/);
  });
});

describe('ContainerSpec to Docker Engine API', () => {
  it('maps env, ports with host address, volumes, network aliases, user, restart, healthcheck and memory', () => {
    const body = containerCreateBody(
      spec({
        name: 'dev-kafka-1',
        entrypoint: ['/bin/sh', '/e.sh'],
        env: { CLUSTER_ID: 'abc' },
        ports: [{ internal: 9094, external: 29094, ip: '127.0.0.1' }],
        volumes: [{ volumeName: 'dev-kafka-1-data', containerPath: '/var/lib/kafka/data' }],
        networkAliases: ['kafka-1'],
        user: '1000:1000',
        restart: 'unless-stopped',
        healthcheck: { test: ['CMD-SHELL', 'true'], intervalSeconds: 15, timeoutSeconds: 20, retries: 8, startPeriodSeconds: 60 },
        memoryMb: 768,
      }),
      'dev-net',
      { 'pipeline.test-run': 'r1' },
    );
    assert.deepEqual(body.Env, ['CLUSTER_ID=abc']);
    assert.deepEqual(body.HostConfig.PortBindings, { '9094/tcp': [{ HostIp: '127.0.0.1', HostPort: '29094' }] });
    assert.deepEqual(body.ExposedPorts, { '9094/tcp': {} });
    assert.deepEqual(body.HostConfig.Mounts, [{ Type: 'volume', Source: 'dev-kafka-1-data', Target: '/var/lib/kafka/data' }]);
    assert.deepEqual(body.NetworkingConfig.EndpointsConfig, { 'dev-net': { Aliases: ['kafka-1'] } });
    assert.equal(body.HostConfig.NetworkMode, 'dev-net');
    assert.deepEqual(body.HostConfig.RestartPolicy, { Name: 'unless-stopped' });
    assert.equal(body.HostConfig.Memory, 768 * 1024 * 1024);
    assert.equal(body.HostConfig.MemorySwap, 768 * 1024 * 1024);
    assert.equal(body.User, '1000:1000');
    assert.deepEqual(body.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 15e9, Timeout: 20e9, Retries: 8, StartPeriod: 60e9 });
    assert.deepEqual(body.Labels, { 'pipeline.test-run': 'r1' });
    assert.equal(body.Cmd, undefined);
  });

  it('host files are bind-mounted read-only, with their size and mtime as a label (a changed file replaces the container)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bind-test-'));
    try {
      const file = path.join(dir, 'data.csv.gz');
      writeFileSync(file, 'a,b\n');
      utimesSync(file, 1_700_000_000, 1_700_000_000);
      const body = containerCreateBody(spec({ name: 'c', binds: [{ hostPath: file, containerPath: '/data/data.csv.gz', readOnly: true }] }), 'net', { run: 'x' });
      assert.deepEqual(body.HostConfig.Binds, [`${file}:/data/data.csv.gz:ro`]);
      assert.deepEqual(body.Labels, { run: 'x', [bindVersionLabel]: '4-1700000000000' });
      appendFileSync(file, '1,2\n');
      const changed = containerCreateBody(spec({ name: 'c', binds: [{ hostPath: file, containerPath: '/data/data.csv.gz', readOnly: true }] }), 'net', {});
      assert.notEqual(changed.Labels[bindVersionLabel], '4-1700000000000');
      assert.equal(bindVersion([{ hostPath: path.join(dir, 'absent'), containerPath: '/x', readOnly: true }], () => undefined), 'missing');
      assert.deepEqual(uploadRequests(spec({ name: 'c', binds: [{ hostPath: file, containerPath: '/data/data.csv.gz', readOnly: true }] })), [], 'nothing of the file is uploaded');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uploads: one archive per file, text and base64 with mode (default 0644), owned by root', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'upload-test-'));
    try {
      const requests = uploadRequests(spec({
        name: 'c',
        uploads: [
          { path: '/conf/app.properties', content: 'x=1\n' },
          { path: '/conf/store.p12', content: Buffer.from([0, 1, 2, 255]).toString('base64'), base64: true, mode: 0o640 },
        ],
      }));
      assert.deepEqual(requests.map((r) => [r.file, r.copyUIDGID]), [['/conf/app.properties', false], ['/conf/store.p12', false]]);
      const out = extract(Buffer.concat(requests.map((r) => r.archive.subarray(0, r.archive.length - 1024)).concat([Buffer.alloc(1024)])));
      try {
        assert.equal(readFileSync(path.join(out, 'conf/app.properties'), 'utf8'), 'x=1\n');
        assert.equal(statSync(path.join(out, 'conf/app.properties')).mode & 0o7777, 0o644);
        assert.equal(statSync(path.join(out, 'conf/app.properties')).uid, 0);
        assert.deepEqual([...readFileSync(path.join(out, 'conf/store.p12'))], [0, 1, 2, 255]);
        assert.deepEqual([statSync(path.join(out, 'conf/store.p12')).uid, statSync(path.join(out, 'conf/store.p12')).mode & 0o7777], [0, 0o640]);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the provider\'s upload rule: copyUIDGID exactly when an owner or group is set; mode from permissions (default 0644)', () => {
    const header = (archive: Buffer): { mode: number; uid: number; gid: number } => ({
      mode: Number.parseInt(archive.toString('latin1', 100, 107), 8),
      uid: Number.parseInt(archive.toString('latin1', 108, 115), 8),
      gid: Number.parseInt(archive.toString('latin1', 116, 123), 8),
    });
    const plain = uploadRequest({ file: '/a', content: 'x' });
    assert.deepEqual([plain.copyUIDGID, header(plain.archive)], [false, { mode: 0o644, uid: 0, gid: 0 }]);
    const owned = uploadRequest({ file: '/a', content: 'x', permissions: '0600', owner: '1000' });
    assert.deepEqual([owned.copyUIDGID, header(owned.archive)], [true, { mode: 0o600, uid: 1000, gid: 0 }]);
    assert.equal(uploadRequest({ file: '/a', content: 'x', group: '0' }).copyUIDGID, true, 'a group alone is enough');
    assert.equal(header(uploadRequest({ file: '/a', content: 'x', permissions: '0640' }).archive).mode, 0o640);
    assert.throws(() => uploadRequest({ file: '/a', content: 'x', permissions: 'rw-r-----' }), /\/a: permissions "rw-r-----" is not an octal mode/);
    assert.throws(() => uploadRequest({ file: '/a', content: 'x', owner: 'appuser' }), /\/a: owner "appuser" is not numeric/);
  });

  it('rejects relative upload paths and bad base64, naming the file', () => {
    assert.throws(() => uploadRequests(spec({ name: 'c', uploads: [{ path: 'rel/x', content: '' }] })), /c: upload path "rel\/x" is not absolute/);
    assert.throws(() => uploadRequests(spec({ name: 'c', uploads: [{ path: '/x', content: 'not base64!', base64: true }] })), /\/x: content is marked base64/);
    assert.deepEqual(uploadRequests(spec({ name: 'c' })), []);
  });

  it('starts in dependsOn waves and rejects unknown dependencies, duplicates and cycles', () => {
    const waves = startWaves([
      spec({ name: 'producer', dependsOn: ['kafka-1', 'kafka-2'] }),
      spec({ name: 'kafka-1' }),
      spec({ name: 'kafka-2' }),
      spec({ name: 'prometheus', dependsOn: ['producer'] }),
    ]);
    assert.deepEqual(waves, [['kafka-1', 'kafka-2'], ['producer'], ['prometheus']]);
    assert.throws(() => startWaves([spec({ name: 'a', dependsOn: ['b'] })]), /a depends on b, which is not defined/);
    assert.throws(() => startWaves([spec({ name: 'a' }), spec({ name: 'a' })]), /two containers are named a/);
    assert.throws(() => startWaves([spec({ name: 'a', dependsOn: ['b'] }), spec({ name: 'b', dependsOn: ['a'] })]), /cycle: a, b/);
  });

  it('demultiplexes the engine\'s stdout/stderr stream', () => {
    const frame = (kind: number, text: string): Buffer => {
      const header = Buffer.alloc(8);
      header[0] = kind;
      header.writeUInt32BE(Buffer.byteLength(text), 4);
      return Buffer.concat([header, Buffer.from(text)]);
    };
    assert.deepEqual(demultiplex(Buffer.concat([frame(1, 'out1 '), frame(2, 'err'), frame(1, 'out2')])), { stdout: 'out1 out2', stderr: 'err' });
  });
});

describe('healthcheckCommand: what Docker runs for a healthcheck test (the harness runs the same)', () => {
  it('CMD runs its arguments as they are; CMD-SHELL runs its one line with /bin/sh -c', () => {
    assert.deepEqual(healthcheckCommand(['CMD', 'node', '-e', 'x']), ['node', '-e', 'x']);
    assert.deepEqual(healthcheckCommand(['CMD-SHELL', 'a && b > /dev/null']), ['/bin/sh', '-c', 'a && b > /dev/null']);
  });
  it('refuses what it cannot run, naming it', () => {
    for (const test of [['NONE'], ['CMD'], ['CMD-SHELL', 'a', 'b'], []]) {
      assert.throws(() => healthcheckCommand(test), (e: Error) => e.message.includes(JSON.stringify(test)));
    }
  });
});
