// A copy of one of kafkajs' modules of its own (the file loaded anew, kafkajs' cache left as it
// was): the unpatched reference a speed-up of kafkajs is checked against, or a copy to patch that
// touches nothing else.
import { createRequire } from 'node:module';

export function freshKafkajsModule<T>(modulePath: string): T {
  const load = createRequire(require.resolve('kafkajs'));
  const file = load.resolve(modulePath);
  const cached = load.cache[file];
  delete load.cache[file];
  try {
    return load(modulePath) as T;
  } finally {
    if (cached) load.cache[file] = cached;
    else delete load.cache[file];
  }
}
