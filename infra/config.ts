// Reads the stack's configuration once: the plain objects go through validateStackConfig (which
// names every bad key), the secrets stay Outputs.
import * as pulumi from '@pulumi/pulumi';
import { kafkaVersion, repoRoot } from './config/project-package';
import { externalSecretKeys } from './config/external-kafka-config';
import { StackConfigError } from './config/reader';
import { configKeys, projectName, validateStackConfig, type RawStackConfig, type StackConfig } from './config/stack-config';

export interface StackSecrets {
  /** `pulumi config set --secret grafanaAdminPassword …`; generated once when absent. */
  grafanaAdminPassword?: pulumi.Output<string>;
  /** Password of the admin bundle's PKCS12 store; generated once when absent. */
  bundlePassword?: pulumi.Output<string>;
  /** kafka.mode external: the CA, the admin's and the services' credentials, by config key (externalSecretKeys). */
  external?: Partial<Record<string, pulumi.Output<string>>>;
}

export function loadStackConfig(): { config: StackConfig; secrets: StackSecrets } {
  const config = new pulumi.Config(projectName);
  const raw: RawStackConfig = Object.fromEntries(configKeys.map((key) => [key, config.getObject<unknown>(key)]));
  const grafanaAdminPassword = config.getSecret('grafanaAdminPassword');
  const bundlePassword = config.getSecret('bundlePassword');
  const validated = validateStackConfig(raw, { stack: pulumi.getStack(), kafkaVersion: kafkaVersion(), repoRoot });
  const external = validated.kafka.external && validated.stack.shape !== 'workers' ? readExternalSecrets(config, externalSecretKeys(validated.kafka.external)) : undefined;
  return {
    config: validated,
    secrets: { ...(grafanaAdminPassword ? { grafanaAdminPassword } : {}), ...(bundlePassword ? { bundlePassword } : {}), ...(external ? { external } : {}) },
  };
}

/** Every secret an external cluster needs, or one error naming each missing key. */
function readExternalSecrets(config: pulumi.Config, keys: string[]): Record<string, pulumi.Output<string>> {
  const values = Object.fromEntries(keys.map((key) => [key, config.getSecret(key)]));
  const missing = keys.filter((key) => !values[key]);
  if (missing.length > 0) {
    throw new StackConfigError(missing.map((key) => `${projectName}:${key} is required with kafka.mode: external (pulumi config set --secret ${key} < file)`));
  }
  return values as Record<string, pulumi.Output<string>>;
}
