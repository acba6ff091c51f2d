// The tar writer lives with the deployed code that builds images (infra/docker-engine/tar.ts).
export { splitUstarPath, tarArchive, type TarEntry } from '../../infra/docker-engine/tar';
