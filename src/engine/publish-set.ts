import { promises as fsp, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InterruptedError } from '../core/errors.js';
import type { Manifest } from '../core/types.js';
import { fsyncPath, fsyncTree, writeFileAtomic } from './fs-util.js';
import { MANIFEST_NAME, manifestText } from './manifest.js';
import { isSetId } from './set-id.js';

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
 * When `signal` is aborted before the rename it throws InterruptedError and nothing is published.
 */
export async function publishSet(backupDir: string, manifest: Manifest, signal?: AbortSignal): Promise<void> {
  const staging = stagingDir(backupDir, manifest.id);
  await writeFileAtomic(join(staging, MANIFEST_NAME), manifestText(manifest));
  await fsyncTree(staging);
  if (signal?.aborted) throw new InterruptedError();
  await fsp.rename(staging, join(backupDir, manifest.id));
  await fsyncPath(backupDir);
}
