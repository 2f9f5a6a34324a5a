import { createWriteStream, promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { Writable, pipeline as streamPipeline } from 'node:stream';
import type { Decrypter } from 'age-encryption';
import { decrypterFor, hashDecrypted } from './crypt.js';
import { encryptedParts } from './decrypt-set.js';
import { pipeline } from 'node:stream/promises';
import { NotFoundError, RespaldoError, UsageError, VerifyError } from '../core/errors.js';
import type { Reporter } from '../core/events.js';
import type { LoadedConfig, Manifest, PlainHashes, SetSummary } from '../core/types.js';
import { setKey, type Destination } from '../destinations/destination.js';
import { destinationConfig, openDestination } from '../destinations/registry.js';
import { summaryFromManifest } from './catalog.js';
import { Sha256Pass, withRetries } from './copy.js';
import { DIR_MODE, FILE_MODE, ensurePrivateDir, fsyncPath } from './fs-util.js';
import { writeLog } from './log.js';
import { MANIFEST_NAME, readManifestFile } from './manifest.js';
import { isSetId } from './set-id.js';
import { trackTemp } from './temp-journal.js';
import { expectedFiles, type FileCheck, type VerifyReport } from './verify.js';

/** A set on a destination, as `list --from` shows it. */
export interface RemoteSetSummary extends SetSummary {
  source: string;
  destination: string;
}

/** Opens `name`, runs `work`, closes it. */
export async function withDestination<T>(
  cfg: LoadedConfig,
  name: string,
  work: (dest: Destination, source: string) => Promise<T>,
): Promise<T> {
  const dc = destinationConfig(cfg, name);
  const dest = await openDestination(cfg, name);
  try {
    return await work(dest, dc.source!);
  } finally {
    await dest.close().catch(() => undefined);
  }
}

async function readAll(dest: Destination, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(await dest.get(key), new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(c), cb()) }));
  return Buffer.concat(chunks);
}

/**
 * Reads and checks a set's manifest on a destination (the same checks as a local one: schema
 * version, safe paths, and that it is the manifest of `id`).
 */
export async function readRemoteManifest(
  dest: Destination,
  source: string,
  id: string,
  scratch?: string,
): Promise<Manifest> {
  if (!isSetId(id))
    throw new UsageError(
      `"${id}" is not a backup set id (YYYYMMDD_HHMMSS).`,
      'Run `respaldo list --from NAME` to see the set ids.',
    );
  const text = await withRetries(() => readAll(dest, `${setKey(source, id)}/${MANIFEST_NAME}`));
  // A manifest that fails its checks is named as it is at the destination, not by the scratch copy read here.
  const check = (dir: string): Manifest => {
    try {
      return readManifestFile(dir);
    } catch (err) {
      if (!(err instanceof VerifyError)) throw err;
      throw new VerifyError(
        `destination "${dest.name}": set ${setKey(source, id)} has a bad manifest: ${err.message.replace(`${join(dir, MANIFEST_NAME)}: `, '')}`,
        `Nothing was changed. Inspect ${dest.describe()}/${setKey(source, id)}/${MANIFEST_NAME}; copy the set there again (\`respaldo copy ${id} --to ${dest.name}\`) or remove that set folder by hand.`,
      );
    }
  };
  let m: Manifest;
  if (scratch) {
    await fsp.writeFile(join(scratch, MANIFEST_NAME), text, { mode: FILE_MODE });
    m = check(scratch);
  } else {
    const dir = await fsp.mkdtemp(join((await import('node:os')).tmpdir(), 'respaldo-manifest-'));
    try {
      await fsp.writeFile(join(dir, MANIFEST_NAME), text, { mode: FILE_MODE });
      m = check(dir);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  }
  if (m.id !== id)
    throw new VerifyError(
      `destination "${dest.name}": ${setKey(source, id)} holds the manifest of set ${m.id}.`,
      'Do not restore from it; check who wrote to the destination.',
    );
  return m;
}

/** Sets on a destination (this server's source, or every source), newest first, with their manifests' summaries. */
export async function listRemoteSets(
  cfg: LoadedConfig,
  name: string,
  opts: { allSources?: boolean } = {},
): Promise<RemoteSetSummary[]> {
  return withDestination(cfg, name, async (dest, source) => {
    const refs = await withRetries(() => dest.listSets(opts.allSources ? null : source));
    const out: RemoteSetSummary[] = [];
    for (const r of refs) {
      const m = await readRemoteManifest(dest, r.source, r.id);
      out.push({
        ...summaryFromManifest(m, `${dest.describe()}/${setKey(r.source, r.id)}`, { keep: false, lastVerified: null }),
        source: r.source,
        destination: name,
      });
    }
    return out.sort((a, b) =>
      a.startedAt === b.startedAt ? (a.id < b.id ? 1 : -1) : a.startedAt < b.startedAt ? 1 : -1,
    );
  });
}

/** The newest completed (or partial) set of this source at a destination holding every given database. */
export async function latestRemoteSetId(cfg: LoadedConfig, name: string, databases: string[] = []): Promise<string> {
  const sets = await listRemoteSets(cfg, name);
  const found = sets.find(
    (s) => s.type !== 'pre_restore' && s.status !== 'failed' && databases.every((d) => s.databases.includes(d)),
  );
  if (!found) {
    throw new NotFoundError(
      `Destination "${name}" holds no backup set${databases.length ? ` with ${databases.join(', ')}` : ''} of source "${destinationConfig(cfg, name).source}".`,
      'Run `respaldo list --from NAME --all-sources` to see every source there; set "source" in the config to the old server\'s name.',
    );
  }
  return found.id;
}

/**
 * Checks a set on a destination against its manifest: every stored file present, database files of
 * the manifest's size; with `readData` every file is read back and re-hashed (SHA-256).
 */
export async function verifyRemoteSet(
  cfg: LoadedConfig,
  name: string,
  id: string,
  opts: { readData?: boolean },
  reporter: Reporter,
): Promise<VerifyReport> {
  return withDestination(cfg, name, async (dest, source) => {
    const realId = id === 'latest' ? await latestRemoteSetId(cfg, name) : id;
    const m = await readRemoteManifest(dest, source, realId);
    const key = setKey(source, m.id);
    const there = new Map((await withRetries(() => dest.listFiles(key))).map((f) => [f.path, f.size]));
    // Reading the data of an encrypted set also decrypts it: the key is needed, and the plaintext is checked.
    const decrypter = opts.readData && m.encryption ? await decrypterFor(cfg, m.encryption, m.id) : null;
    const plainOf = new Map(
      encryptedParts(
        m,
        m.databases.map((d) => d.name),
        true,
      ).map((p) => [p.path, p.plain]),
    );
    const files: FileCheck[] = [];
    for (const e of expectedFiles(m)) {
      const size = there.get(e.path);
      if (size === undefined) files.push({ path: e.path, ok: false, problem: 'missing', bytes: 0 });
      else if (e.bytes !== null && size !== e.bytes)
        files.push({
          path: e.path,
          ok: false,
          problem: `size ${size} bytes, manifest says ${e.bytes} (truncated or changed)`,
          bytes: size,
        });
      else if (!opts.readData) files.push({ path: e.path, ok: true, bytes: size });
      else if (decrypter) files.push(await readSealed(dest, `${key}/${e.path}`, e, plainOf.get(e.path), decrypter));
      else {
        const h = new Sha256Pass();
        h.resume();
        await withRetries(async () => pipeline(await dest.get(`${key}/${e.path}`), h));
        files.push(
          h.digest() === e.sha256
            ? { path: e.path, ok: true, bytes: h.bytes }
            : { path: e.path, ok: false, problem: 'sha256 mismatch (content changed)', bytes: h.bytes },
        );
      }
    }
    const ok = files.every((f) => f.ok);
    reporter.emit({ type: ok ? 'info' : 'warning', message: `set ${m.id} at ${name}: ${ok ? 'OK' : 'FAILED'}` });
    writeLog(
      cfg.backupDir,
      'verify-remote',
      {
        setId: m.id,
        destination: name,
        readData: Boolean(opts.readData),
        outcome: ok ? 'ok' : 'failed',
        problems: files.filter((f) => !f.ok).map((f) => `${f.path}: ${f.problem}`),
      },
      cfg.secrets,
    );
    return { setId: m.id, ok, files };
  });
}

/**
 * Reads an encrypted file back from a destination: the ciphertext's SHA-256 against the manifest,
 * then the decrypted bytes (authenticated by age) against the plaintext's hashes.
 */
async function readSealed(
  dest: Destination,
  key: string,
  e: { path: string; sha256: string },
  plain: PlainHashes | undefined,
  decrypter: Decrypter,
): Promise<FileCheck> {
  let h = new Sha256Pass();
  try {
    const got = await withRetries(async () => {
      h = new Sha256Pass();
      return hashDecrypted(
        decrypter,
        streamPipeline(await dest.get(key), h, () => undefined),
        e.path,
      );
    });
    if (h.digest() !== e.sha256)
      return { path: e.path, ok: false, problem: 'sha256 mismatch (content changed)', bytes: h.bytes };
    if (plain && (got.sha256 !== plain.sha256 || got.md5 !== plain.md5 || got.bytes !== plain.bytes))
      return { path: e.path, ok: false, problem: 'decrypted content does not match the manifest', bytes: h.bytes };
    return { path: e.path, ok: true, bytes: h.bytes };
  } catch (err) {
    if (err instanceof VerifyError) {
      const problem = 'failed authentication while decrypting (changed or damaged)';
      return { path: e.path, ok: false, problem, bytes: h.bytes };
    }
    throw err;
  }
}

/** A set fetched from a destination into a hidden folder of backupDir, to be restored from and removed. */
export interface FetchedSet {
  id: string;
  /** The folder holding manifest.json and the fetched files (`<backupDir>/.respaldo-restore-fetch-<pid>/<id>`). */
  dir: string;
  /** Removes the folder and its journal record. */
  remove(): Promise<void>;
}

/**
 * Fetches the manifest and the files a restore needs (the given databases, and the config and
 * application files when `files`) of set `id` (or `latest`) from a destination into a hidden,
 * journaled folder inside backupDir, checking each file's size and SHA-256 against the manifest on
 * the way. A mismatch is a VerifyError and nothing is kept.
 */
export async function fetchSet(
  cfg: LoadedConfig,
  name: string,
  id: string,
  sel: { databases?: string[]; files?: boolean },
  reporter: Reporter,
): Promise<FetchedSet> {
  const realId = id === 'latest' ? await latestRemoteSetId(cfg, name, sel.databases ?? []) : id;
  await ensurePrivateDir(cfg.backupDir);
  const root = join(cfg.backupDir, `.respaldo-restore-fetch-${process.pid}`);
  const untrack = await trackTemp(cfg.backupDir, root);
  const remove = async () => {
    await fsp.rm(root, { recursive: true, force: true });
    await untrack();
  };
  try {
    const dir = join(root, realId);
    await ensurePrivateDir(dir);
    await withDestination(cfg, name, async (dest, source) => {
      const m = await readRemoteManifest(dest, source, realId, dir);
      const onlyFiles = sel.files && !sel.databases?.length;
      const dbs = onlyFiles ? [] : sel.databases?.length ? sel.databases : m.databases.map((d) => d.name);
      const wanted = expectedFiles(m, dbs, Boolean(sel.files) || !sel.databases?.length);
      const total = wanted.reduce((s, w) => s + (w.bytes ?? 0), 0);
      reporter.emit({
        type: 'info',
        message: `fetching set ${m.id} from ${name}: ${wanted.length} file(s)${total ? `, ${total} bytes` : ''}`,
      });
      for (const w of wanted) {
        const target = join(dir, w.path);
        await fsp.mkdir(dirname(target), { recursive: true, mode: DIR_MODE });
        const h = new Sha256Pass();
        await withRetries(async () =>
          pipeline(
            await dest.get(`${setKey(source, m.id)}/${w.path}`),
            h,
            createWriteStream(target, { mode: FILE_MODE }),
          ),
        );
        await fsyncPath(target);
        if (h.digest() !== w.sha256 || (w.bytes !== null && h.bytes !== w.bytes)) {
          throw new VerifyError(
            `destination "${name}": ${setKey(source, m.id)}/${w.path} does not match its manifest (changed or damaged there).`,
            'Nothing was restored. Restore another set (`respaldo list --from NAME`), and copy a good set there again.',
          );
        }
      }
    });
    return { id: realId, dir, remove };
  } catch (err) {
    await remove();
    if (err instanceof RespaldoError) throw err;
    throw err;
  }
}
