// The Pulumi program under mocks with Pulumi.ci.yaml, the stack for a Docker host that reaches no
// container registry: every image it names is one tools/images/build.sh makes (tools/pulumi-stack.sh
// builds them before `up`), the services build takes its dependencies from the host's `npm ci`
// image, and Grafana, which cannot be built here, is off.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { reveal } from '../support/secret-inputs';
import { assertUploadsNeedNoHostLookup, containerNames, types } from '../support/stack-assertions';
import { buildStackUnderMocks, ofType, settled, type MockedStack } from '../support/stack-under-mocks';

const localImage = /^pipeline\/[a-z0-9-]+:[\w.-]+$/;

describe('infra stack (ci, under mocks)', () => {
  let stack: MockedStack;
  before(async () => {
    stack = await buildStackUnderMocks('ci');
  });

  it('names only locally built images: nothing is pulled, and the services build needs no registry', () => {
    const remote = ofType(stack.resources, 'docker:index/remoteImage:RemoteImage').map((i) => String(reveal(i.inputs.name)));
    assert.ok(remote.length >= 2, `remote images: ${remote.join(', ')}`);
    for (const name of remote) assert.match(name, localImage, `${name} would be pulled from a registry`);
    const [image] = ofType(stack.resources, types.image);
    const args = reveal(image?.inputs.buildArgs) as Record<string, string>;
    assert.match(args.BASE_IMAGE ?? '', localImage);
    assert.equal(args.DEPS_IMAGE, 'pipeline/services-deps:latest', 'node_modules from the host npm ci image, as build.sh tags it');
  });

  it('runs no Grafana (monitoring.grafana: false) and says so in its outputs', async () => {
    assert.ok(!containerNames(stack).some((n) => n.endsWith('-grafana')), containerNames(stack).join(', '));
    assert.ok(containerNames(stack).some((n) => n.endsWith('-prometheus')));
    assert.equal(await settled(stack.outputs.grafanaUrl), '');
  });

  it('uploads carry no owner or group (no copyUIDGID, no host passwd lookup)', () => {
    assertUploadsNeedNoHostLookup(stack);
  });
});
