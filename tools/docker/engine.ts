// The Engine API client lives with the deployed code that builds the services image
// (infra/docker-engine/engine-client.ts); the test tooling uses the same one.
export { DockerApiError, DockerEngine, demultiplex, engineEndpoint, type EngineEndpoint, type Query, type RequestOptions } from '../../infra/docker-engine/engine-client';
