// Reads the stack's configuration once: the plain objects go through validateStackConfig (which
// names every bad key), the secrets stay Outputs.
import * as pulumi from '@pulumi/pulumi';
import { kafkaVersion, repoRoot } from './config/project-package';
import { configKeys, projectName, validateStackConfig, type RawStackConfig, type StackConfig } from './config/stack-config';

export interface StackSecrets {
  /** `pulumi config set --secret grafanaAdminPassword …`; generated once when absent. */
  grafanaAdminPassword?: pulumi.Output<string>;
  /** Password of the admin bundle's PKCS12 store; generated once when absent. */
  bundlePassword?: pulumi.Output<string>;
}

export function loadStackConfig(): { config: StackConfig; secrets: StackSecrets } {
  const config = new pulumi.Config(projectName);
  const raw: RawStackConfig = Object.fromEntries(configKeys.map((key) => [key, config.getObject<unknown>(key)]));
  const grafanaAdminPassword = config.getSecret('grafanaAdminPassword');
  const bundlePassword = config.getSecret('bundlePassword');
  return {
    config: validateStackConfig(raw, { stack: pulumi.getStack(), kafkaVersion: kafkaVersion(), repoRoot }),
    secrets: { ...(grafanaAdminPassword ? { grafanaAdminPassword } : {}), ...(bundlePassword ? { bundlePassword } : {}) },
  };
}
