// `npm run generate -- --rows N --out FILE [--seed S] [--out-of-order-ms M] [--late-rate r]
// [--malformed-rate r] [--events-per-second E] [--start ISO-TIME] [--gzip]`
import { MAX_EVENT_TIME } from '../core/event';
import { writeGeneratedCsv, type GenerateOptions } from './generator';

const usage = 'usage: npm run generate -- --rows N --out FILE [--seed S] [--out-of-order-ms M] [--late-rate r] [--malformed-rate r] [--events-per-second E] [--start ISO-TIME] [--gzip]';

type Parsed = GenerateOptions & { out: string; gzip: boolean };

/** Parses the generator's flags, collecting every problem. */
export function parseGenerateArgs(argv: string[]): Parsed {
  const problems: string[] = [];
  const values = new Map<string, string>();
  let gzip = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--gzip') gzip = true;
    else if (['--rows', '--out', '--seed', '--out-of-order-ms', '--late-rate', '--malformed-rate', '--events-per-second', '--start'].includes(arg) && argv[i + 1] !== undefined) values.set(arg, argv[++i]!);
    else problems.push(`unknown or incomplete option ${arg}`);
  }
  const number = (flag: string, check: (n: number) => boolean, what: string): number | undefined => {
    const text = values.get(flag);
    if (text === undefined) return undefined;
    const n = Number(text);
    // Number('1e400') is Infinity, which passes a range check but no generator arithmetic.
    if (!Number.isFinite(n) || !check(n)) problems.push(`${flag} ${JSON.stringify(text)} is not ${what}`);
    return n;
  };
  const rate = (n: number) => n >= 0 && n <= 1;
  const rows = number('--rows', (n) => Number.isSafeInteger(n) && n >= 0, 'a non-negative integer');
  if (rows === undefined) problems.push('--rows is required');
  const out = values.get('--out');
  if (!out) problems.push('--out is required');
  const start = values.get('--start');
  const startTime = start === undefined ? undefined : Date.parse(start);
  if (startTime !== undefined && !(startTime >= 0 && startTime <= MAX_EVENT_TIME)) problems.push(`--start ${JSON.stringify(start)} is not an ISO time between 1970 and 9999`);
  const options: Parsed = {
    rows: rows ?? 0, out: out ?? '', gzip,
    seed: number('--seed', Number.isSafeInteger, 'an integer'),
    outOfOrderMs: number('--out-of-order-ms', (n) => n >= 0, 'a non-negative number'),
    lateRate: number('--late-rate', rate, 'a share in [0, 1]'),
    malformedRate: number('--malformed-rate', rate, 'a share in [0, 1]'),
    eventsPerSecond: number('--events-per-second', (n) => n > 0, 'a positive number'),
    startTime,
  };
  if (problems.length > 0) throw new Error(`${problems.join('\n')}\n${usage}`);
  return options;
}

async function main(): Promise<void> {
  let options: Parsed;
  try {
    options = parseGenerateArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`generate: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const summary = await writeGeneratedCsv(options.out, options);
  process.stdout.write(`${options.out}: ${summary.rows} rows (${summary.malformed} malformed, ${summary.late} late), ${summary.bytes} bytes\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`generate: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
