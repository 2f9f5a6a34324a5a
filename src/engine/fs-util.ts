import { existsSync, promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';

/** Folders respaldo creates are 0700 and files 0600, whatever the umask. */
export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

export async function ensurePrivateDir(dir: string): Promise<void> {
  await fsp.mkdir(dir, { recursive: true, mode: DIR_MODE });
  await fsp.chmod(dir, DIR_MODE);
}

export async function fsyncPath(path: string): Promise<void> {
  const fh = await fsp.open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes a small file atomically: temp file beside it, fsync, rename, fsync the folder. */
export async function writeFileAtomic(file: string, content: string, mode: number = FILE_MODE): Promise<void> {
  const tmp = join(dirname(file), `.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
  const fh = await fsp.open(tmp, 'wx', FILE_MODE);
  try {
    await fh.writeFile(content);
    await fh.chmod(mode);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true }); // e.g. a full disk: no stray temp file
    throw err;
  }
  await fh.close();
  try {
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fsyncPath(dirname(file));
}

/** Total size of the regular files below a folder (symlinks not followed). */
export async function folderSize(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await folderSize(p);
    else if (e.isFile()) total += (await fsp.lstat(p)).size;
  }
  return total;
}

/** Fsyncs every file and folder below `dir`, then `dir` itself. */
export async function fsyncTree(dir: string): Promise<void> {
  const entries = await fsp.readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await fsyncTree(p);
    else if (e.isFile()) await fsyncPath(p);
  }
  await fsyncPath(dir);
}

/** Free bytes on the disk of `dir` (of its nearest existing parent when it does not exist yet); null when unreadable. */
export async function freeBytesAt(dir: string): Promise<number | null> {
  let at = dir;
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  try {
    const st = await fsp.statfs(at);
    return st.bavail * st.bsize;
  } catch {
    return null;
  }
}
