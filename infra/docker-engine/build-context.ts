// The build context the docker CLI would send for `docker build -f <dockerfile> <context>`: every
// file of the folder that .dockerignore does not exclude (its rules as Docker applies them: patterns
// in order, the last match wins, `!` re-includes, a pattern matching a folder matches all below
// it), plus the Dockerfile and .dockerignore themselves, which the CLI always sends. Its digest
// stands for the image's content at preview: a changed source file rebuilds, nothing else does.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, sep } from 'node:path';
import { tarArchive } from './tar';

export interface IgnorePattern {
  /** The pattern as cleaned, for the folder-skipping test. */
  text: string;
  exclusion: boolean;
  regex: RegExp;
}

/** One .dockerignore pattern as a regular expression over '/'-separated relative paths. */
function patternRegex(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') {
          i++;
          out += '(?:.*/)?';
        } else {
          out += '.*';
        }
      } else {
        out += '[^/]*';
      }
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '\\' && i + 1 < pattern.length) {
      out += `\\${pattern[++i]!}`;
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw new Error(`.dockerignore: unclosed '[' in ${JSON.stringify(pattern)}`);
      const body = pattern.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
      out += `[${body}]`;
      i = end;
    } else {
      out += c.replace(/[.+^${}()|\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${out}$`);
}

export function parseDockerignore(text: string): IgnorePattern[] {
  const patterns: IgnorePattern[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const exclusion = line.startsWith('!');
    if (exclusion) line = line.slice(1).trim();
    const cleaned = posix.normalize(line).replace(/^\/+/, '').replace(/\/+$/, '');
    if (cleaned === '' || cleaned === '.') continue;
    patterns.push({ text: cleaned, exclusion, regex: patternRegex(cleaned) });
  }
  return patterns;
}

/** Whether Docker leaves `relative` out of the context: the path or one of its folders matches, last pattern wins. */
export function isIgnored(patterns: IgnorePattern[], relative: string): boolean {
  const parts = relative.split('/');
  let ignored = false;
  for (const pattern of patterns) {
    if (pattern.exclusion !== ignored) continue;
    let match = pattern.regex.test(relative);
    for (let i = 1; !match && i < parts.length; i++) match = pattern.regex.test(parts.slice(0, i).join('/'));
    if (match) ignored = !pattern.exclusion;
  }
  return ignored;
}

/** An ignored folder is still walked if a `!` pattern lies under it (Docker's own test, by prefix). */
function mayReinclude(patterns: IgnorePattern[], relativeDir: string): boolean {
  return patterns.some((p) => p.exclusion && `${p.text}/`.startsWith(`${relativeDir}/`));
}

export interface ContextFile {
  /** '/'-separated, relative to the context folder. */
  path: string;
  absolutePath: string;
  mode: number;
}

/** The files of the context, sorted by path. `dockerfile` is relative to the context folder. */
export function buildContextFiles(contextDir: string, dockerfile: string): ContextFile[] {
  const ignoreFile = join(contextDir, '.dockerignore');
  let patterns: IgnorePattern[] = [];
  try {
    patterns = parseDockerignore(readFileSync(ignoreFile, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const always = new Set([dockerfile.split(sep).join('/'), '.dockerignore']);
  const files: ContextFile[] = [];
  const walk = (relativeDir: string): void => {
    for (const entry of readdirSync(join(contextDir, relativeDir), { withFileTypes: true })) {
      const relative = relativeDir ? `${relativeDir}/${entry.name}` : entry.name;
      const absolutePath = join(contextDir, relative);
      const ignored = isIgnored(patterns, relative) && !always.has(relative);
      // Symbolic links are followed: what they point to is what the image gets.
      const stat = entry.isSymbolicLink() ? statSync(absolutePath, { throwIfNoEntry: false }) : undefined;
      const isDir = entry.isDirectory() || Boolean(stat?.isDirectory());
      if (isDir) {
        if (!ignored || mayReinclude(patterns, relative)) walk(relative);
      } else if (!ignored && (entry.isFile() || stat?.isFile())) {
        files.push({ path: relative, absolutePath, mode: statSync(absolutePath).mode & 0o7777 });
      }
    }
  };
  walk('');
  for (const required of always) {
    if (required !== '.dockerignore' && !files.some((f) => f.path === required)) {
      throw new Error(`build context ${contextDir}: ${required} does not exist`);
    }
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A digest of paths, modes and contents: equal exactly when the build would see the same context. */
export function contextDigest(files: ContextFile[]): string {
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(`${file.path}\0${file.mode.toString(8)}\0`);
    hash.update(createHash('sha256').update(readFileSync(file.absolutePath)).digest());
  }
  return `sha256:${hash.digest('hex')}`;
}

/** The context as the build API takes it: a tar of the files, owned by root as the CLI sends them. */
export function contextArchive(files: ContextFile[]): Buffer {
  return tarArchive(files.map((f) => ({ path: f.path, content: readFileSync(f.absolutePath), mode: f.mode, uid: 0, gid: 0 })));
}
