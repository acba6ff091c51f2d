// Node's flags for the consumer process, wherever it runs: the image's command
// (infra/render/service-containers.ts), `npm run consume`, and the local harness (tools/service-process.ts).
//
// Both stages allocate short-lived objects at a high rate (decoded records, parsed events, rows,
// packs), and V8's default young generation (16 MiB semi-spaces) promotes many of them to the old
// generation before they die, where they cost full collections. Larger semi-spaces let them die
// young. V8 flags are per process, so the window stage's worker thread takes them too. 32 MiB was
// faster than both 16 (the default) and 64 on 1M events, for about 50 MiB more RSS (docs/benchmarks.md).
export const consumerNodeFlags: readonly string[] = ['--max-semi-space-size=32'];
