import { promises as fsp } from 'node:fs';
import type { LoadedConfig, Manifest } from '../core/types.js';
import { ensurePrivateDir } from './fs-util.js';
import type { ManifestFiles } from './manifest.js';
import { fetchRemoteManifest, withDestination } from './remote.js';
import { pathChoices, type PathChoices } from './stored-path-choices.js';
import { makeSystemScratch } from './system-scratch.js';

/**
 * What a set at a destination stores below a path typed, for the menu's restore of some of its files
 * (stored-path-choices.ts): its manifest fetched once into a scratch folder of the system's temporary folder and listed
 * from there at each Tab, as a local set's is from its own. Fetched again at each Tab, a distant set cost a login and
 * its whole manifest every time (58 MB for a set of 100 000 files). One set is kept: another one asked for replaces
 * it; `drop` removes it (the wizard left), and `recover` the folder of a run that was killed.
 */
export class RemotePathLister {
  private kept: Kept | null = null;

  constructor(private readonly config: () => LoadedConfig) {}

  /** The first `limit` names set `id` at destination `from` stores one level below `typed`. */
  async choices(from: string, id: string, typed: string, limit: number): Promise<PathChoices> {
    const key = JSON.stringify([from, id]);
    if (this.kept?.key !== key) {
      // Replaced at once (a second Tab while this one fetches waits for the same fetch), the one before removed.
      const before = this.kept;
      const scratch = makeSystemScratch('restore');
      const read = scratch.then(async ({ scratch: dir }) => {
        await ensurePrivateDir(dir);
        return withDestination(this.config(), from, (dest, source) => fetchRemoteManifest(dest, source, id, dir));
      });
      this.kept = { key, root: scratch.then((s) => s.root), read };
      await removeKept(before);
    }
    const kept = this.kept!;
    try {
      const { head, files } = await kept.read;
      return pathChoices(files.entries(), head.folders ?? [], typed, limit);
    } catch (err) {
      // Not kept when it failed (unreachable, damaged there, its copy here gone): the next Tab fetches it again.
      if (this.kept === kept) await this.drop();
      throw err;
    }
  }

  /** Removes the manifest kept, if any (once a fetch of it under way has ended). */
  async drop(): Promise<void> {
    const kept = this.kept;
    this.kept = null;
    await removeKept(kept);
  }
}

/** A set's manifest kept: its scratch folder (`root`, removed with it) and its lean read there. */
interface Kept {
  key: string;
  root: Promise<string>;
  read: Promise<{ head: Manifest; files: ManifestFiles }>;
}

async function removeKept(kept: Kept | null): Promise<void> {
  if (!kept) return;
  await kept.read.catch(() => undefined);
  const root = await kept.root.catch(() => null);
  if (root) await fsp.rm(root, { recursive: true, force: true });
}
