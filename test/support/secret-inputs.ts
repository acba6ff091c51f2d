// How a secret looks in the inputs the mock monitor records: Pulumi's secret signature wrapping the
// value. Lets tests walk every recorded input and find plaintext that should have been secret.
const secretSig = '4dabf18193072939515e22adb298388d';
const secretValue = '1b47061264138c4ac30d75fd1eb44270';

export function isSecretInput(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)[secretSig] === secretValue;
}

/** Every string reachable from `value` without passing through a secret, with its path. */
export function plaintextStrings(value: unknown, at = ''): { path: string; text: string }[] {
  if (isSecretInput(value)) return [];
  if (typeof value === 'string') return [{ path: at, text: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => plaintextStrings(v, `${at}[${i}]`));
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([k, v]) => plaintextStrings(v, at ? `${at}.${k}` : k));
  return [];
}

/** Unwraps secret markers, for asserting on what a secret holds. */
export function reveal(value: unknown): unknown {
  if (isSecretInput(value)) return reveal((value as { value: unknown }).value);
  if (Array.isArray(value)) return value.map(reveal);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reveal(v)]));
  return value;
}
