// Node's flags for the consumer process, wherever it runs: the image's command
// (infra/render/service-containers.ts), `npm run consume`, and the local harness (tools/service-process.ts).
//
// Both stages allocate short-lived objects at a high rate (decoded records, parsed events, rows,
// packs), and V8's default young generation (16 MiB semi-spaces) promotes many of them to the old
// generation before they die, where they cost full collections. Larger semi-spaces let them die
// young. V8 flags are per process, so the window stage's worker thread takes them too. Measured on
// 1M events (the processor benchmark's job, 2 cores, one broker): 22.3–23.9 s with 32 MiB against
// 25.2–30.4 s with the default and 23.7–26.9 s with 64 MiB; peak RSS 750–764 MiB against 694–721
// and 839–878 (docs/benchmarks.md).
export const consumerNodeFlags: readonly string[] = ['--max-semi-space-size=32'];
