// One description of a container, rendered by pure functions from plain values. The Pulumi
// components turn it into docker.Container resources (inside Output.apply, so secrets stay secret);
// the container tests replay the very same specs against a real Docker engine.

export interface FileUpload {
  /** Absolute path inside the container. */
  path: string;
  /** UTF-8 text (properties, PEM) or, with `base64: true`, base64 of binary content (PKCS12). */
  content: string;
  base64?: boolean;
  /** True for private keys, passwords and stores: Pulumi keeps the resource input secret. */
  secret?: boolean;
  /** Octal file mode, e.g. 0o600 for keys. */
  mode?: number;
  /** Numeric owner uid and group gid (root if unset): a 0600 key must belong to the user the process runs as. */
  owner?: number;
  group?: number;
  /**
   * Instead of `content`: a file on the machine running the deployment, read at deploy time and never
   * stored in state (a dataset of gigabytes). `content` is then empty.
   */
  hostPath?: string;
}

export interface PortMapping {
  /** Port inside the container. */
  internal: number;
  /** Port on the Docker host. */
  external: number;
  /** Host address to bind; 127.0.0.1 unless a stack opts out. */
  ip: string;
}

export interface VolumeMount {
  volumeName: string;
  containerPath: string;
}

export interface Healthcheck {
  test: string[];
  intervalSeconds: number;
  timeoutSeconds: number;
  retries: number;
  startPeriodSeconds: number;
}

export interface ContainerSpec {
  /** Container name; also its host name on the stack's network. */
  name: string;
  image: string;
  entrypoint?: string[];
  command?: string[];
  env: Record<string, string>;
  ports: PortMapping[];
  uploads: FileUpload[];
  volumes: VolumeMount[];
  /** Extra DNS names on the stack network. */
  networkAliases: string[];
  user?: string;
  restart: 'no' | 'on-failure' | 'unless-stopped' | 'always';
  healthcheck?: Healthcheck;
  /** Memory limit in MiB, if any. */
  memoryMb?: number;
  /** Names of containers (specs) that must be started (and healthy, if they have a healthcheck) first. */
  dependsOn: string[];
}
