// What every phase of a CA replacement must look like in the program's resources (under mocks):
// which CAs exist, which one signed every certificate, and that every trust store (each broker's,
// each service's, the admin bundle's and the program's own admin connection's) holds exactly the
// trusted CAs. The mocks give each certificate a PEM derived from its resource name.
import assert from 'node:assert/strict';
import { reveal } from './secret-inputs';
import { container, types, upload } from './stack-assertions';
import { fakePem, ofType, settled, type MockedStack } from './stack-under-mocks';

const certsIn = (pem: string): string[] => pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
const caPem = (resource: string): string => certsIn(fakePem('CERTIFICATE', resource))[0]!;

export async function assertCaPhase(stack: MockedStack, expected: { trusted: string[]; signing: string }): Promise<void> {
  const cas = ofType(stack.resources, types.selfSigned).map((r) => r.name).sort();
  assert.deepEqual(cas, [...expected.trusted].sort(), 'the CAs that exist');
  const trusted = expected.trusted.map(caPem);
  for (const cert of ofType(stack.resources, types.signed)) {
    assert.deepEqual(certsIn(String(reveal(cert.inputs.caCertPem))), [caPem(expected.signing)], `${cert.name} is signed by ${expected.signing}`);
  }
  const stores: [string, string][] = [];
  for (let id = 1; id <= stack.config.kafka.brokers; id++) {
    stores.push([`kafka-${id} truststore`, upload(container(stack, `kafka-${id}`), '/etc/kafka/pipeline/tls/truststore.pem').content ?? '']);
  }
  for (const service of ['producer', 'consumer-1']) stores.push([`${service} ca.pem`, upload(container(stack, service), '/etc/pipeline/tls/ca.pem').content ?? '']);
  assert.ok(stack.outputs.adminBundle, 'a bundled stack exports the admin bundle');
  stores.push(['admin bundle', (await settled(stack.outputs.adminBundle)).caCertPem]);
  for (const topic of ofType(stack.resources, types.topic)) stores.push([`${topic.name} admin connection`, (reveal(topic.inputs.connection) as { ca: string }).ca]);
  for (const [where, pem] of stores) {
    assert.deepEqual(certsIn(pem), trusted, `${where} trusts exactly ${expected.trusted.join(' + ')}, the signing CA first`);
  }
}
