// Preloaded (NODE_OPTIONS=--import) by `npm run bench:producer` or `bench:processor` with `--cpu-prof DIR`,
// since Node refuses --cpu-prof in NODE_OPTIONS: profiles the whole process and writes
// DIR/<BENCH_CPU_PROF_NAME>-<pid>-<thread id>.cpuprofile at exit, one per thread (worker threads run it too).
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import process from 'node:process';
import { threadId } from 'node:worker_threads';

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  // The in-process session answers synchronously, so this works in an exit handler.
  process.on('exit', () => session.post('Profiler.stop', (error, result) => {
    if (!error) writeFileSync(`${dir}/${process.env.BENCH_CPU_PROF_NAME ?? 'service'}-${process.pid}-${threadId}.cpuprofile`, JSON.stringify(result.profile));
  }));
}
