// CA replacement, step 1 of 3 (prod under mocks, pki.caRotation=trustNext): the next CA exists and
// every trust store holds it beside the current one, but it has signed nothing yet.
import { before, describe, it } from 'node:test';
import { assertCaPhase } from '../support/ca-rotation-assertions';
import { buildStackUnderMocks, readStackFile, type MockedStack } from '../support/stack-under-mocks';

describe('CA rotation step 1: trust the next CA everywhere (prod, under mocks)', () => {
  let stack: MockedStack;
  before(async () => {
    const raw = readStackFile('prod');
    stack = await buildStackUnderMocks('prod', { grafanaAdminPassword: 'prod-grafana-password' }, { ...raw, pki: { ...(raw.pki as object), caRotation: 'trustNext' } });
  });

  it('creates generation 2 and puts it in every trust store; generation 1 still signs every certificate', async () => {
    await assertCaPhase(stack, { trusted: ['pki-ca', 'pki-ca-g2'], signing: 'pki-ca' });
  });
});
