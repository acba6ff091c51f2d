// A minimal in-memory tar (POSIX ustar) writer: enough to hand files to Docker's archive API the way
// the docker provider's `uploads` do, and a build context to the Engine's build API.

export interface TarEntry {
  /** Path inside the archive; a leading '/' is dropped (Docker extracts relative to the target). */
  path: string;
  content: Buffer;
  /** Permission bits; the provider's default for uploads is 0o644. */
  mode: number;
  uid?: number;
  gid?: number;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  // width - 1 digits and a NUL, as ustar readers expect.
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** Splits a path into ustar's name (≤ 100 bytes) and prefix (≤ 155 bytes) fields. */
export function splitUstarPath(path: string): { name: string; prefix: string } {
  const relative = path.replace(/^\/+/, '');
  if (relative === '' || relative.split('/').some((part) => part === '..' || part === '')) {
    throw new Error(`tar: invalid path ${JSON.stringify(path)} (empty, '..' or '//' segments)`);
  }
  if (Buffer.byteLength(relative) <= 100) return { name: relative, prefix: '' };
  for (let cut = relative.lastIndexOf('/'); cut > 0; cut = relative.lastIndexOf('/', cut - 1)) {
    const prefix = relative.slice(0, cut);
    const name = relative.slice(cut + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { name, prefix };
  }
  throw new Error(`tar: path too long for ustar: ${JSON.stringify(path)}`);
}

function header(entry: TarEntry): Buffer {
  const block = Buffer.alloc(BLOCK, 0);
  const { name, prefix } = splitUstarPath(entry.path);
  const put = (text: string, offset: number, width: number): void => {
    block.write(text, offset, width, 'utf8');
  };
  put(name, 0, 100);
  put(octal(entry.mode & 0o7777, 8), 100, 8);
  put(octal(entry.uid ?? 0, 8), 108, 8);
  put(octal(entry.gid ?? 0, 8), 116, 8);
  put(octal(entry.content.length, 12), 124, 12);
  put(octal(0, 12), 136, 12); // mtime: a fixed epoch keeps archives reproducible
  put('        ', 148, 8); // checksum field counts as spaces while summing
  put('0', 156, 1); // regular file
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  put(prefix, 345, 155);
  let sum = 0;
  for (const byte of block) sum += byte;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return block;
}

/** One tar archive holding the given regular files, ending with the two zero blocks. */
export function tarArchive(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    parts.push(header(entry), entry.content);
    const padding = (BLOCK - (entry.content.length % BLOCK)) % BLOCK;
    if (padding) parts.push(Buffer.alloc(padding, 0));
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0));
  return Buffer.concat(parts);
}
