// The services image's build context (what .dockerignore lets through, as Docker reads it), the
// classic builder's output, and which engine DOCKER_HOST names: the pure parts of BuiltImage.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { buildContextFiles, contextDigest, isIgnored, parseDockerignore } from '../../infra/docker-engine/build-context';
import { parseBuildOutput } from '../../infra/docker-engine/built-image';
import { engineEndpoint } from '../../infra/docker-engine/engine-client';
import { repoRoot } from '../../tools/kafka/kafka-runtime';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'build-context-'));
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), content);
  }
  return dir;
}

describe('.dockerignore as Docker applies it', () => {
  it('last match wins, ! re-includes, a folder pattern covers everything below it', () => {
    const p = parseDockerignore('# comment\n*\n!services/\nservices/Dockerfile\n!keep.txt\n**/*.log\n');
    assert.equal(isIgnored(p, 'README.md'), true);
    assert.equal(isIgnored(p, 'keep.txt'), false);
    assert.equal(isIgnored(p, 'services/core/a.ts'), false);
    assert.equal(isIgnored(p, 'services/Dockerfile'), true);
    assert.equal(isIgnored(p, 'services/core/debug.log'), true);
    assert.equal(isIgnored(p, 'node_modules/x/index.js'), true);
  });

  it('wildcards stay within one path segment, ** spans many, ? is one character, [..] a class', () => {
    const p = parseDockerignore('a/*.txt\n**/tmp\nb?.md\n[xy].js\n');
    assert.equal(isIgnored(p, 'a/1.txt'), true);
    assert.equal(isIgnored(p, 'a/sub/1.txt'), false);
    assert.equal(isIgnored(p, 'deep/er/tmp/file'), true);
    assert.equal(isIgnored(p, 'tmp'), true);
    assert.equal(isIgnored(p, 'b1.md'), true);
    assert.equal(isIgnored(p, 'b12.md'), false);
    assert.equal(isIgnored(p, 'x.js'), true);
    assert.equal(isIgnored(p, 'z.js'), false);
  });

  it('lists the repository\'s services context: sources and manifests, never node_modules, Dockerfile always sent', () => {
    const files = buildContextFiles(repoRoot, path.join('services', 'Dockerfile')).map((f) => f.path);
    assert.ok(files.includes('package.json') && files.includes('package-lock.json') && files.includes('tsconfig.json'));
    assert.ok(files.includes('services/Dockerfile'), 'the CLI sends the Dockerfile even when .dockerignore names it');
    assert.ok(files.includes('services/producer/main.ts'));
    assert.ok(files.every((f) => !f.startsWith('node_modules/') && !f.startsWith('infra/') && !f.startsWith('.git/')), files.join(' '));
  });

  it('follows symbolic links, and its digest changes with a file\'s content or mode and nothing else', () => {
    const dir = tree({ 'Dockerfile': 'FROM x\n', 'src/a.txt': 'a', '.dockerignore': 'ignored.txt\n', 'ignored.txt': 'x' });
    try {
      symlinkSync(path.join(dir, 'src'), path.join(dir, 'linked'));
      const files = buildContextFiles(dir, 'Dockerfile');
      assert.deepEqual(files.map((f) => f.path), ['.dockerignore', 'Dockerfile', 'linked/a.txt', 'src/a.txt']);
      const before = contextDigest(files);
      writeFileSync(path.join(dir, 'ignored.txt'), 'changed');
      assert.equal(contextDigest(buildContextFiles(dir, 'Dockerfile')), before);
      writeFileSync(path.join(dir, 'src/a.txt'), 'b');
      assert.notEqual(contextDigest(buildContextFiles(dir, 'Dockerfile')), before);
      assert.throws(() => buildContextFiles(dir, 'missing/Dockerfile'), /missing\/Dockerfile does not exist/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('classic builder output', () => {
  const lines = (...messages: object[]): string => messages.map((m) => JSON.stringify(m)).join('\r\n');

  it('collects every step\'s image and the final id', () => {
    const out = parseBuildOutput(lines(
      { stream: 'Step 1/3 : FROM base\n' }, { stream: ' ---> 638b242bbda1\n' },
      { stream: 'Step 2/3 : RUN true\n' }, { stream: ' ---> Running in 78f7e6d704ae\n' }, { stream: 'Removing intermediate container 78f7e6d704ae\n' },
      { stream: ' ---> 806d0173978d\n' }, { aux: { ID: 'sha256:806d0173978d00' } }, { stream: 'Successfully built 806d0173978d\n' },
    ));
    assert.deepEqual(out, { imageId: 'sha256:806d0173978d00', stepIds: ['638b242bbda1', '806d0173978d'], error: undefined, lastStep: 'Step 2/3 : RUN true' });
  });

  it('reports the error and the step it happened at', () => {
    const out = parseBuildOutput(lines({ stream: 'Step 3/5 : RUN false\n' }, { error: "The command '/bin/sh -c false' returned a non-zero code: 1", errorDetail: {} }));
    assert.equal(out.imageId, undefined);
    assert.equal(out.lastStep, 'Step 3/5 : RUN false');
    assert.match(out.error ?? '', /non-zero code: 1/);
  });
});

describe('DOCKER_HOST', () => {
  it('defaults to the local socket and takes unix:// paths', () => {
    assert.deepEqual(engineEndpoint({}), { kind: 'unix', socketPath: '/var/run/docker.sock' });
    assert.deepEqual(engineEndpoint({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }), { kind: 'unix', socketPath: '/run/user/1000/docker.sock' });
  });

  it('takes tcp://, with TLS certificates from DOCKER_CERT_PATH when DOCKER_TLS_VERIFY is set', () => {
    assert.deepEqual(engineEndpoint({ DOCKER_HOST: 'tcp://10.0.0.5:2375' }), { kind: 'tcp', host: '10.0.0.5', port: 2375 });
    const certs = tree({ 'ca.pem': 'CA', 'cert.pem': 'CERT', 'key.pem': 'KEY' });
    try {
      const endpoint = engineEndpoint({ DOCKER_HOST: 'tcp://docker.example:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs });
      assert.equal(endpoint.kind === 'tcp' && endpoint.tls?.cert.toString(), 'CERT');
      assert.throws(() => engineEndpoint({ DOCKER_HOST: 'tcp://h:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/nonexistent' }), /cannot read \/nonexistent\/ca.pem/);
    } finally {
      rmSync(certs, { recursive: true, force: true });
    }
  });

  it('refuses ssh:// and other schemes with what to do instead', () => {
    assert.throws(() => engineEndpoint({ DOCKER_HOST: 'ssh://me@host' }), /not reachable over ssh:\/\/.*ssh -nNT -L \/tmp\/docker.sock/);
    assert.throws(() => engineEndpoint({ DOCKER_HOST: 'npipe:////./pipe/docker_engine' }), /unsupported scheme/);
  });
});
