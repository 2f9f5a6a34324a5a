import { promises as fsp, type Dirent } from 'node:fs';

/** Files removeTree removes at once in one folder. */
const REMOVED_AT_ONCE = 32;

/** Folders opened to a read of their entries: what `openFolders` makes them. */
const OPENED_MODE = 0o700;

/**
 * Removes `path` as `rm -rf` does: nothing there is nothing to do, a file or a symlink is unlinked, a folder is
 * emptied and removed. Each folder's entries are read a few at a time (a directory stream) and removed
 * REMOVED_AT_ONCE at a time, so memory stays flat whatever the number of files: `fs.promises.rm(dir, { recursive:
 * true })` holds every entry and its pending removal at once, 299 MiB of RSS for a set of 100 000 files and 45 MiB
 * more for a restore's decrypted copy of 20 000 small ones (Node 24), the peak of that restore.
 *
 * Also when folders in it lack write or search permission for their owner: restored files keep their folders'
 * modes (a release folder 0555), which a run not as root could not empty, so a drill or a failed restore of them
 * left its scratch behind and every later create, restore and drill failed removing it. Whatever it still cannot
 * remove is thrown (the first such error); a folder something wrote into meanwhile is removed all the same.
 *
 * Names are handled as bytes: a file whose name is not UTF-8 is removed like any other.
 */
export async function removeTree(path: string | Buffer): Promise<void> {
  const at = typeof path === 'string' ? Buffer.from(path) : path;
  // Looked at first: opening a symlink to a folder as a folder would empty what it names.
  const st = await fsp.lstat(at).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (!st) return;
  if (!st.isDirectory()) return unlinkQuiet(at);
  try {
    await removeBounded(at);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw err;
    await openFolders(at);
    await removeBounded(at);
  }
}

/** `dir`/`name`, as bytes. */
function child(dir: Buffer, name: Buffer): Buffer {
  return Buffer.concat([dir, Buffer.from('/'), name]);
}

/** Entries of `dir` as a stream, their names as bytes (Node accepts `buffer` here; its types do not say so). */
function openDir(dir: Buffer) {
  return fsp.opendir(dir, { encoding: 'buffer' as BufferEncoding });
}

/** Removes the folder `path` (a folder by its entry or its lstat, never a symlink) and all below it. */
async function removeBounded(path: Buffer, again = true): Promise<void> {
  let dir: Awaited<ReturnType<typeof openDir>>;
  try {
    dir = await openDir(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  let failed: unknown = null;
  const pending: Promise<void>[] = [];
  // A folder its listing did not say is one (a file system without entry types) is removed as a folder when
  // unlink refuses it (EISDIR; EPERM elsewhere) and lstat says it is one (never a symlink followed).
  const remove = (p: Buffer) =>
    fsp.unlink(p).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return;
      const folder = (err.code === 'EISDIR' || err.code === 'EPERM') && (await isFolder(p));
      if (folder) await removeBounded(p).catch((e: unknown) => (failed ??= e));
      else failed ??= err;
    });
  for await (const e of dir) {
    const p = child(path, e.name as unknown as Buffer);
    if (e.isDirectory()) await removeBounded(p).catch((err: unknown) => (failed ??= err));
    else pending.push(remove(p));
    if (pending.length >= REMOVED_AT_ONCE) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  if (failed) throw failed;
  try {
    await fsp.rmdir(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code !== 'ENOTEMPTY' || !again) throw err;
    // Written into while it was emptied (what came after its listing): emptied once more.
    await removeBounded(path, false);
  }
}

async function isFolder(path: Buffer): Promise<boolean> {
  return (await fsp.lstat(path).catch(() => null))?.isDirectory() ?? false;
}

async function unlinkQuiet(path: Buffer): Promise<void> {
  await fsp.unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

/** Makes every folder below and at `dir` (its own, symlinks not followed) 0700, top first so it can be read. */
async function openFolders(dir: Buffer): Promise<void> {
  const st = await fsp.lstat(dir).catch(() => undefined);
  if (!st?.isDirectory()) return;
  await fsp.chmod(dir, OPENED_MODE).catch(() => undefined);
  const entries = await openDir(dir).catch(() => undefined);
  if (!entries) return;
  for await (const e of entries) if (maybeFolder(e)) await openFolders(child(dir, e.name as unknown as Buffer));
}

/** A folder, or an entry of a type its listing did not say (looked at by lstat in openFolders). */
function maybeFolder(e: Dirent): boolean {
  const known = e.isFile() || e.isSymbolicLink() || e.isFIFO() || e.isSocket() || e.isBlockDevice();
  return e.isDirectory() || !(known || e.isCharacterDevice());
}
