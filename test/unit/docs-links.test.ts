// Every relative link and anchor in README.md and docs/*.md points at a file and a heading that
// exist, so moving a section never leaves a reader at a dead end.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../infra/config/project-package';

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const heading = !fenced && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = heading[1]!
      .replace(/`/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** Markdown links outside code: [text](target), not http(s) or mailto. */
function relativeLinks(markdown: string): string[] {
  const text = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z]+:/i.test(t));
}

function documents(): string[] {
  const docs = path.join(repoRoot, 'docs');
  const inDocs = existsSync(docs) ? readdirSync(docs).filter((f) => f.endsWith('.md')).map((f) => path.join(docs, f)) : [];
  return [path.join(repoRoot, 'README.md'), ...inDocs];
}

describe('documentation links', () => {
  it('the anchor and link readers work on a sample', () => {
    const sample = '# A `b` c!\n## Why, and how?\n## Why, and how?\n```\n# not a heading\n```\nsee [x](#a-b-c) and [y](docs/z.md#q) and `[no](#code)` and [web](https://x.y)';
    assert.deepEqual([...headingAnchors(sample)], ['a-b-c', 'why-and-how', 'why-and-how-1']);
    assert.deepEqual(relativeLinks(sample), ['#a-b-c', 'docs/z.md#q']);
  });

  it('every relative link in README.md and docs/ reaches an existing file and heading', () => {
    const broken: string[] = [];
    for (const doc of documents()) {
      for (const link of relativeLinks(readFileSync(doc, 'utf8'))) {
        const [file, anchor] = link.split('#', 2) as [string, string | undefined];
        const target = file === '' ? doc : path.resolve(path.dirname(doc), decodeURIComponent(file));
        const where = `${path.relative(repoRoot, doc)} → ${link}`;
        if (!existsSync(target)) {
          broken.push(`${where}: no such file`);
          continue;
        }
        if (anchor && target.endsWith('.md') && !headingAnchors(readFileSync(target, 'utf8')).has(anchor)) broken.push(`${where}: no such heading`);
      }
    }
    assert.deepEqual(broken, []);
  });
});
