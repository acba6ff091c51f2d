// A stand-in for the Pulumi engine and resource monitor on loopback gRPC, so a test can start the
// program the way the CLI does (@pulumi/pulumi's language-host entry, `cmd/run`) and read what the
// engine would print: every Log call it receives. Resources register and get a URN; nothing is created.
import * as grpc from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import { Empty } from 'google-protobuf/google/protobuf/empty_pb';
import { Struct } from 'google-protobuf/google/protobuf/struct_pb';
import path from 'node:path';

/* eslint-disable @typescript-eslint/no-require-imports -- the generated gRPC stubs are CommonJS without types for their handlers */
const engineGrpc = require('@pulumi/pulumi/proto/engine_grpc_pb') as { EngineService: grpc.ServiceDefinition };
const engineProto = require('@pulumi/pulumi/proto/engine_pb') as Record<string, new () => ProtoMessage>;
const resourceGrpc = require('@pulumi/pulumi/proto/resource_grpc_pb') as { ResourceMonitorService: grpc.ServiceDefinition };
const resourceProto = require('@pulumi/pulumi/proto/resource_pb') as Record<string, new () => ProtoMessage>;
/* eslint-enable @typescript-eslint/no-require-imports */

interface ProtoMessage {
  [setter: string]: unknown;
}

export interface EngineLog {
  severity: 'debug' | 'info' | 'warning' | 'error';
  message: string;
}

export interface ProgramRun {
  exitCode: number | null;
  logs: EngineLog[];
  stdout: string;
  stderr: string;
}

const severities = ['debug', 'info', 'warning', 'error'] as const;

function message(kind: Record<string, new () => ProtoMessage>, type: string, fields: Record<string, unknown> = {}): ProtoMessage {
  const msg = new kind[type]!();
  for (const [setter, value] of Object.entries(fields)) (msg[setter] as (v: unknown) => void).call(msg, value);
  return msg;
}

type Unary = (call: grpc.ServerUnaryCall<ProtoMessage, ProtoMessage>, reply: grpc.sendUnaryData<ProtoMessage>) => void;
const get = (call: grpc.ServerUnaryCall<ProtoMessage, ProtoMessage>, getter: string): unknown => (call.request[getter] as () => unknown).call(call.request);

/**
 * Runs `program` (a folder with package.json, as Pulumi.yaml's `main` resolves) under the language
 * host entry with the given config (`<project>:<key>` → JSON text, as the CLI passes PULUMI_CONFIG).
 */
export async function runProgramUnderFakeEngine(options: { root: string; project: string; stack: string; config: Record<string, string>; timeoutMs?: number }): Promise<ProgramRun> {
  const logs: EngineLog[] = [];
  const server = new grpc.Server();
  const engine: Record<string, Unary> = {
    log: (call, reply) => {
      logs.push({ severity: severities[Number(get(call, 'getSeverity'))] ?? 'error', message: String(get(call, 'getMessage')) });
      reply(null, new Empty() as unknown as ProtoMessage);
    },
    getRootResource: (_call, reply) => reply(null, message(engineProto, 'GetRootResourceResponse', { setUrn: '' })),
    setRootResource: (_call, reply) => reply(null, message(engineProto, 'SetRootResourceResponse')),
  };
  const monitor: Record<string, Unary> = {
    supportsFeature: (_call, reply) => reply(null, message(resourceProto, 'SupportsFeatureResponse', { setHassupport: false })),
    registerResource: (call, reply) => {
      const urn = `urn:pulumi:${options.stack}::${options.project}::${String(get(call, 'getType'))}::${String(get(call, 'getName'))}`;
      reply(null, message(resourceProto, 'RegisterResourceResponse', { setUrn: urn, setObject: new Struct() }));
    },
    registerResourceOutputs: (_call, reply) => reply(null, new Empty() as unknown as ProtoMessage),
  };
  server.addService(engineGrpc.EngineService, engine);
  server.addService(resourceGrpc.ResourceMonitorService, monitor);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  const address = `127.0.0.1:${port}`;
  const entry = path.join(path.dirname(require.resolve('@pulumi/pulumi/package.json')), 'cmd', 'run');
  try {
    return await new Promise<ProgramRun>((resolve, reject) => {
      const child = spawn(process.execPath, [
        '--import', 'tsx', entry,
        `--monitor=${address}`, `--engine=${address}`, `--project=${options.project}`, `--stack=${options.stack}`, '--dry-run', '--pwd', options.root, '.',
      ], {
        cwd: options.root,
        env: { ...process.env, PULUMI_CONFIG: JSON.stringify(options.config), PULUMI_CONFIG_SECRET_KEYS: '[]' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
      child.on('error', reject);
      child.on('exit', (exitCode) => {
        clearTimeout(timer);
        resolve({ exitCode, logs, stdout, stderr });
      });
    });
  } finally {
    server.forceShutdown();
  }
}
