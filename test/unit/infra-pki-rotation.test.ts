// CA replacement without downtime: the phases (pki.caGeneration, pki.caRotation), their validation,
// and the Pki component under mocks in each phase: which CAs exist, which signs, what is trusted.
// The whole program's wiring of the trust bundle is checked in infra-stack-ca-trust-next.test.ts.
import assert from 'node:assert/strict';
import * as pulumi from '@pulumi/pulumi';
import { before, describe, it } from 'node:test';
import { validateStackConfig } from '../../infra/config/stack-config';
import { StackConfigError } from '../../infra/config/reader';
import { caParams, caPlan, type PkiSettings } from '../../infra/pki/pki-params';
import { fakePem, settled, type RecordedResource } from '../support/stack-under-mocks';
import { testPkiSettings } from '../support/test-pki';

const defaults = { stack: 'test', kafkaVersion: '4.1.1', repoRoot: '/repo' };

describe('CA rotation phases', () => {
  it('trust the next CA, then sign with it, then drop the previous one', () => {
    assert.deepEqual(caPlan({ caGeneration: 1, caRotation: 'none' }), { trusted: [1], signing: 1 });
    assert.deepEqual(caPlan({ caGeneration: 1, caRotation: 'trustNext' }), { trusted: [1, 2], signing: 1 });
    assert.deepEqual(caPlan({ caGeneration: 2, caRotation: 'trustPrevious' }), { trusted: [2, 1], signing: 2 });
    assert.deepEqual(caPlan({ caGeneration: 2, caRotation: 'none' }), { trusted: [2], signing: 2 });
    assert.throws(() => caPlan({ caGeneration: 1, caRotation: 'trustPrevious' }), /needs pki.caGeneration >= 2/);
  });

  it('gives every generation after the first its own subject, so two trusted CAs never share a name', () => {
    assert.equal(caParams(testPkiSettings, 1).subject.commonName, 'ecommerce-pipeline CA');
    assert.equal(caParams(testPkiSettings, 2).subject.commonName, 'ecommerce-pipeline CA 2');
  });

  it('validates the keys: generation from 1, a known phase, trustPrevious only after generation 1', () => {
    const pki = (p: object): PkiSettings => validateStackConfig({ pki: p }, defaults).pki;
    assert.deepEqual([pki({}).caGeneration, pki({}).caRotation], [1, 'none']);
    assert.deepEqual([pki({ caGeneration: 3, caRotation: 'trustPrevious' }).caGeneration], [3]);
    const problems = (p: object): string[] => {
      try {
        validateStackConfig({ pki: p }, defaults);
      } catch (error) {
        assert.ok(error instanceof StackConfigError);
        return error.problems;
      }
      return [];
    };
    assert.ok(problems({ caGeneration: 0 }).some((p) => p.includes('pki.caGeneration')), 'generation 0');
    assert.ok(problems({ caRotation: 'rotate' }).some((p) => p.includes('pki.caRotation') && p.includes('none, trustNext, trustPrevious')));
    assert.ok(problems({ caRotation: 'trustPrevious' }).some((p) => p.includes('pki.caRotation') && p.includes('caGeneration >= 2')));
  });
});

describe('the Pki component in each phase (under mocks)', () => {
  const resources: RecordedResource[] = [];
  let Pki: typeof import('../../infra/components/pki').Pki;
  before(async () => {
    await pulumi.runtime.setMocks({
      newResource: (args) => {
        resources.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown>, dependencies: [], propertyDependencies: {} });
        const certPem = args.type.startsWith('tls:index/') && args.type.endsWith('Cert') ? { certPem: fakePem('CERTIFICATE', args.name) } : {};
        const keys = args.type === 'tls:index/privateKey:PrivateKey' ? { privateKeyPem: fakePem('EC PRIVATE KEY', args.name), privateKeyPemPkcs8: fakePem('PRIVATE KEY', args.name) } : {};
        return { id: `${args.name}-id`, state: { ...(args.inputs as Record<string, unknown>), certRequestPem: 'csr', ...certPem, ...keys } };
      },
      call: (args) => args.inputs as Record<string, unknown>,
    }, 'ecommerce-pipeline', 'pki-test', false);
    ({ Pki } = await import('../../infra/components/pki'));
  });

  const phases = [
    { label: 'stable', p: 'a', settings: { caGeneration: 1, caRotation: 'none' }, trusted: ['a-ca'], signing: 'a-ca' },
    { label: 'step 1: trust the next', p: 'b', settings: { caGeneration: 1, caRotation: 'trustNext' }, trusted: ['b-ca', 'b-ca-g2'], signing: 'b-ca' },
    { label: 'step 2: sign with it', p: 'c', settings: { caGeneration: 2, caRotation: 'trustPrevious' }, trusted: ['c-ca-g2', 'c-ca'], signing: 'c-ca-g2' },
    { label: 'step 3: drop the previous', p: 'd', settings: { caGeneration: 2, caRotation: 'none' }, trusted: ['d-ca-g2'], signing: 'd-ca-g2' },
    { label: 'next replacement, step 1', p: 'e', settings: { caGeneration: 2, caRotation: 'trustNext' }, trusted: ['e-ca-g2', 'e-ca-g3'], signing: 'e-ca-g2' },
  ] as const;

  for (const phase of phases) {
    it(`${phase.label}: CAs ${phase.trusted.join(' + ')}, signed by ${phase.signing}`, async () => {
      const pki = new Pki(phase.p, { settings: { ...testPkiSettings, ...phase.settings }, brokers: 3, clients: ['admin', 'producer'] });
      const bundle = await settled(pki.caCertPem);
      assert.equal(bundle, phase.trusted.map((name) => fakePem('CERTIFICATE', name)).join(''), 'the trust bundle: the trusted CAs, the signing one first');
      await settled(pki.clients.admin!.certPem);
      const mine = resources.filter((r) => r.name.startsWith(`${phase.p}-`));
      assert.deepEqual(mine.filter((r) => r.type === 'tls:index/selfSignedCert:SelfSignedCert').map((r) => r.name).sort(), [...phase.trusted].sort());
      const signed = mine.filter((r) => r.type === 'tls:index/locallySignedCert:LocallySignedCert');
      assert.equal(signed.length, 5);
      for (const cert of signed) assert.equal(cert.inputs.caCertPem, fakePem('CERTIFICATE', phase.signing), `${cert.name}`);
      const subjects = mine.filter((r) => r.type === 'tls:index/selfSignedCert:SelfSignedCert').map((r) => (r.inputs.subject as { commonName: string }).commonName);
      assert.equal(new Set(subjects).size, subjects.length, 'distinct CA subjects');
    });
  }
});
