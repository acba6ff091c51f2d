// `pulumi up`: the e-commerce pipeline, end to end. Config is read and validated once; infra/stack.ts
// builds PKI → network → Kafka → topics and ACLs → services → monitoring.
import { loadStackConfig } from './config';
import { buildStack } from './stack';

const { config, secrets } = loadStackConfig();
const stack = buildStack(config, secrets);

export const bootstrapServers = stack.bootstrapServers;
export const grafanaUrl = stack.grafanaUrl;
export const prometheusUrl = stack.prometheusUrl;
export const topics = stack.topics;
export const adminBundle = stack.adminBundle;
export const serviceCredentials = stack.serviceCredentials;
