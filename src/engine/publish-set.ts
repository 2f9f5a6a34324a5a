import { promises as fsp, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InterruptedError } from '../core/errors.js';
import type { Manifest } from '../core/types.js';
import { fsyncPath, fsyncTree, writeFileAtomic } from './fs-util.js';
import { MANIFEST_NAME, manifestText, readManifestFile } from './manifest.js';
import { isSetId } from './set-id.js';
import type { FileEntrySpill } from './file-spill.js';

/**
 * How every set (a backup, a pre_restore set) becomes visible: written under `.tmp-<id>` in the backup
 * folder, its manifest last, every file and folder fsynced, then renamed to `<id>`. An interrupted run
 * leaves only a `.tmp-` folder, which `list` and `restore` never accept and the next `create` removes.
 */

/** The folder a set is written in before it is published (`<backupDir>/.tmp-<id>`). */
export function stagingDir(backupDir: string, id: string): string {
  return join(backupDir, `.tmp-${id}`);
}

/** Ids in use in the backup folder: published sets and sets being written (`.tmp-<id>`). */
export function takenSetIds(backupDir: string): Set<string> {
  const taken = new Set<string>();
  for (const name of readdirSync(backupDir)) {
    const id = name.startsWith('.tmp-') ? name.slice(5) : name;
    if (isSetId(id)) taken.add(id);
  }
  return taken;
}

/**
 * Publishes the set `manifest.id` written in its staging folder: writes the manifest (atomically),
 * fsyncs every file and folder, renames the folder to `<backupDir>/<id>` and fsyncs the backup folder.
 * When `signal` is aborted before the rename it throws InterruptedError and nothing is published. `files`: the
 * entries of the manifest's `files` (written in place of `manifest.files`), its file removed once written.
 */
export async function publishSet(
  backupDir: string,
  manifest: Manifest,
  signal?: AbortSignal,
  files?: FileEntrySpill,
): Promise<void> {
  const staging = stagingDir(backupDir, manifest.id);
  await writeFileAtomic(join(staging, MANIFEST_NAME), manifestText(manifest, files?.texts()));
  // Not part of the set: gone before it is fsynced and published.
  files?.remove();
  const dbFiles = manifest.databases.reduce((n, d) => n + 1 + (d.extras?.length ?? 0), 0);
  await fsyncTree(staging, { files: (files?.count ?? manifest.files.length) + dbFiles, signal });
  if (signal?.aborted) throw new InterruptedError();
  await fsp.rename(staging, join(backupDir, manifest.id));
  await fsyncPath(backupDir);
}
const groupCounts = new WeakMap<Manifest, { config: number; application: number }>();

/**
 * How many of the files of a manifest createBackup returned are config files and how many application files, without
 * reading its `files` (undefined for another manifest).
 */
export function fileGroupCounts(m: Manifest): { config: number; application: number } | undefined {
  return groupCounts.get(m);
}

/**
 * Makes `m.files` of a published set read from its manifest when first asked for (and again once let go): the entries
 * of a set of 100 000 files are some 90 MiB as objects, and most runs never read them after the manifest is written
 * (the summary and `--json` do not: fileGroupCounts, the manifest file itself). Copies and drills read them so.
 */
export function publishedFiles(m: Manifest, setDir: string, groups = { config: 0, application: 0 }): void {
  groupCounts.set(m, groups);
  if (!m.totals.files) return; // `files: []` is what it holds
  let held: WeakRef<Manifest['files']> | undefined;
  Object.defineProperty(m, 'files', {
    enumerable: true,
    configurable: true,
    get(): Manifest['files'] {
      const files = held?.deref() ?? readManifestFile(setDir).files;
      held = new WeakRef(files);
      return files;
    },
    set(files: Manifest['files']) {
      Object.defineProperty(m, 'files', { value: files, enumerable: true, configurable: true, writable: true });
    },
  });
}

/** The path of the manifest of a set createBackup published (for `create --json`, which prints it as written). */
export function publishedManifestPath(backupDir: string, m: Manifest): string {
  return join(backupDir, m.id, MANIFEST_NAME);
}
