import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import type { TargetDisk } from '../driver.js';

/**
 * The disk a restore writes `path` on (or, when `path` does not exist yet, the disk of its nearest folder that does):
 * that path, the disk's device and the bytes free there for this user. Null when it cannot be read.
 */
export async function diskAt(path: string, opts: { mustExist?: boolean } = {}): Promise<TargetDisk | null> {
  let at = path;
  for (;;) {
    const st = await fsp.stat(at).catch(() => null);
    if (st) {
      const fs = await fsp.statfs(at).catch(() => null);
      return fs ? { path: at, device: st.dev, freeBytes: fs.bavail * fs.bsize } : null;
    }
    const up = dirname(at);
    if (opts.mustExist || up === at) return null;
    at = up;
  }
}
