// Kafka feature releases (major.minor), which metadata versions follow: plain functions the config
// validation and the MetadataVersion resource share.

/** "4.2.0" → "4.2": metadata versions follow the feature release, not the patch. */
export function releaseVersionOf(kafkaVersion: string): string {
  const match = /^(\d+)\.(\d+)\.\d+$/.exec(kafkaVersion.trim());
  if (!match) throw new Error(`kafka.version=${kafkaVersion}: expected major.minor.patch, e.g. 4.2.0`);
  return `${match[1]}.${match[2]}`;
}

const releaseNumber = (release: string): number[] => release.split(/[.-]/).slice(0, 2).map(Number);

/** Negative if a < b, by major then minor ("4.1-IV1" and "4.1" are equal). */
export function compareRelease(a: string, b: string): number {
  const [am = 0, an = 0] = releaseNumber(a);
  const [bm = 0, bn = 0] = releaseNumber(b);
  return am - bm || an - bn;
}
