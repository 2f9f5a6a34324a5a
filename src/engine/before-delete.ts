import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { formatLocal } from '../core/format.js';
import { phrase, type Phrase } from '../core/phrases.js';
import type { FileEntry, LoadedConfig, Manifest } from '../core/types.js';
import { DRILLED_NAME, KEEP_MARK, VERIFIED_NAME, listSets, setDir } from './catalog.js';
import { SEALED_SENT_NAME } from './copy-seal.js';
import { COPIES_NAME } from './copy.js';
import { MANIFEST_NAME } from './manifest.js';

/**
 * What an operator is told before a set goes (`delete`, the menu's delete, `prune`): what the set is to them
 * (a safety copy, the only or newest backup of a database, a database it keeps on the server) and what else its
 * folder holds that respaldo did not write. Nothing here removes anything.
 */

/** The temporary name of an atomic write (durable-fs.ts) that a killed run may have left. */
const ATOMIC_TEMP = /^\.\d+\.\d+\.[a-z0-9]*\.tmp$/;

/**
 * The files in set `m`'s folder (relative paths, sorted) that are neither stored by the set nor respaldo's own
 * marks beside it: put there by someone (notes, a file copied in by hand). Deleting the set would take them too.
 * `files`: the entries of its files when `m.files` does not hold them (a manifest read lean).
 */
export function strayFiles(dir: string, m: Manifest, files: Iterable<FileEntry> = m.files): string[] {
  const paths: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path);
      else if (!ATOMIC_TEMP.test(e.name)) paths.push(path);
    }
  };
  walk('');
  return notWrittenByRespaldo(paths, m, [VERIFIED_NAME, DRILLED_NAME, COPIES_NAME, SEALED_SENT_NAME], files);
}

/**
 * Pure: of `paths` (relative to set `m`'s folder, here or at a destination), those neither stored by the set, nor
 * its manifest or keep mark, nor one of `marks` (respaldo's other files beside a set), sorted.
 */
export function notWrittenByRespaldo(
  paths: readonly string[],
  m: Manifest,
  marks: readonly string[] = [],
  files: Iterable<FileEntry> = m.files,
): string[] {
  // What is left of `paths` once each path respaldo wrote is taken out (the entries gone through one at a time)
  const left = new Set(paths);
  for (const p of [MANIFEST_NAME, KEEP_MARK, ...marks]) left.delete(p);
  for (const d of m.databases) {
    if (d.file) left.delete(d.file);
    for (const x of d.extras ?? []) left.delete(x.file);
  }
  for (const f of files) if (f.stored) left.delete(f.stored);
  return paths.filter((p) => left.has(p)).sort();
}

/** The stray files of set `m`, or none when it or its folder cannot be read (the deletion says why then). */
export function strayFilesOf(
  cfg: Pick<LoadedConfig, 'backupDir'>,
  m: Manifest | null,
  files?: Iterable<FileEntry>,
): string[] {
  if (!m) return [];
  try {
    return strayFiles(setDir(cfg, m.id), m, files);
  } catch {
    return [];
  }
}

/** What deleting set `m` takes away, one sentence each, in the order an operator should read them. */
export async function deleteNotes(cfg: LoadedConfig, m: Manifest, files?: Iterable<FileEntry>): Promise<Phrase[]> {
  const notes: Phrase[] = [];
  const drops = m.databases.flatMap((d) => (d.safetyDatabase ? [d.safetyDatabase] : []));
  if (drops.length) notes.push(phrase('delete.dropsSafety', { set: m.id, dbs: drops.join(', '), count: drops.length }));
  const strays = strayFilesOf(cfg, m, files);
  if (strays.length)
    notes.push(
      phrase('delete.strayFiles', {
        set: m.id,
        files: strays.slice(0, 3).join(', '),
        more: Math.max(0, strays.length - 3),
        count: strays.length,
      }),
    );
  // Marked keep: someone chose to keep it for good (the menu's prompt said nothing of it, `respaldo delete` did).
  if (existsSync(join(setDir(cfg, m.id), KEEP_MARK))) notes.push(phrase('delete.markedKeep', { set: m.id }));
  if (m.type === 'pre_restore') {
    notes.push(phrase('delete.safetyCopy', { set: m.id, of: m.restoreOf ?? '?', at: formatLocal(m.startedAt) }));
    return notes;
  }
  const sets = (await listSets(cfg)).filter((s) => s.type !== 'pre_restore' && s.status !== 'failed');
  for (const db of m.databases.filter((d) => !d.error).map((d) => d.name)) {
    const holding = sets.filter((s) => s.databases.includes(db));
    if (holding.length === 1 && holding[0]!.id === m.id) notes.push(phrase('delete.onlyBackup', { set: m.id, db }));
    else if (holding[0]?.id === m.id)
      notes.push(phrase('delete.newestBackup', { set: m.id, db, next: holding[1]!.id }));
  }
  return notes;
}
