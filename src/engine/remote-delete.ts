import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NotFoundError } from '../core/errors.js';
import { formatLocal, printedName } from '../core/format.js';
import { phrase, type Phrase } from '../core/phrases.js';
import type { LoadedConfig, Manifest, SetSummary } from '../core/types.js';
import { ranBy } from '../core/who.js';
import { setKey } from '../destinations/destination.js';
import { notWrittenByRespaldo } from './before-delete.js';
import { KEEP_MARK, chainBaseRefusal, summaryFromManifest } from './catalog.js';
import { withRetries } from './copy.js';
import { CLAIMS_DIR, removeEmptyClaims } from './copy-claim.js';
import { writeLog } from './log.js';
import { MANIFEST_NAME } from './manifest.js';
import { markPruned, notFromACopy, removeSetFolder } from './remote-prune.js';
import { readRemoteManifests, withDestination } from './remote.js';
import { heldAcross } from './garbage.js';

/**
 * `delete ID --from NAME`: one set of this server's source removed from a destination by hand: a set the retention
 * there keeps and the operator does not want (a bad copy, room needed now), a set whose manifest fails its checks
 * (prune never removes one: it cannot tell what it holds), or an unfinished copy. What the set is there is said
 * first (its only or newest copy of a database there, whether this server still has it, files someone put beside
 * it), then the operator confirms; a set a differential or incremental there applies on is refused. The manifest
 * goes first, so a delete that stops half way leaves an unfinished set there (never listed; prune clears it), and
 * the local set is marked as removed there, so `copy` does not send it back unasked (`copy ID --to NAME` does). The
 * claims of its id (copy-claim.ts) go first, and the claims' folder once empty.
 */

/** What deleting a set at a destination would remove, and what it is there. */
export interface RemoteDeleteCheck {
  destination: string;
  /** The set's folder there, as the destination describes it. */
  where: string;
  id: string;
  /** `damaged`: its manifest fails its checks (`problem`); `incomplete`: no manifest (an unfinished copy). */
  state: 'complete' | 'damaged' | 'incomplete';
  problem: string | null;
  files: number;
  bytes: number;
  /** Marked keep (there or in the local backup folder): retention never removes it. */
  keep: boolean;
  /** The local backup folder holds this set (with its manifest). */
  localCopy: boolean;
  /** What the set is, in the operator's words, said before it goes. */
  notes: Phrase[];
}

/**
 * Pure: what a set is at destination `dest`, said before it is deleted there: files someone put beside it, a safety
 * copy, the only or newest set of a database there (of `sets`, the sets of this source there), and whether this
 * server still has it.
 */
export function remoteDeleteNotes(args: {
  id: string;
  dest: string;
  m: Manifest | null;
  sets: readonly SetSummary[];
  strays: readonly string[];
  localCopy: boolean;
}): Phrase[] {
  const { id, dest, m, strays } = args;
  const notes: Phrase[] = [];
  if (strays.length)
    notes.push(
      phrase('delete.strayFiles', {
        set: id,
        // Named as they are there, quoted: a line break in one printed lines of its own above the confirmation.
        files: strays.slice(0, 3).map(printedName).join(', '),
        more: Math.max(0, strays.length - 3),
        count: strays.length,
      }),
    );
  if (m?.type === 'pre_restore')
    notes.push(phrase('delete.safetyCopy', { set: id, of: m.restoreOf ?? '?', at: formatLocal(m.startedAt) }));
  else if (m) {
    const usable = args.sets
      .filter((s) => s.type !== 'pre_restore' && s.status !== 'failed')
      .sort((a, b) => (a.id < b.id ? 1 : -1));
    for (const db of m.databases.filter((d) => !d.error).map((d) => d.name)) {
      const holding = usable.filter((s) => s.databases.includes(db));
      if (holding.length === 1 && holding[0]!.id === id) notes.push(phrase('delete.onlyThere', { set: id, db, dest }));
      else if (holding[0]?.id === id)
        notes.push(phrase('delete.newestThere', { set: id, db, dest, next: holding[1]!.id }));
    }
  }
  if (!args.localCopy && args.m) notes.push(phrase('delete.notHere', { set: id, dest }));
  return notes;
}

/**
 * Deletes set `id` of this server's source at destination `name` once `confirm` (given what the set is there) says
 * yes. Throws NotFoundError when nothing of the set is there, and the chain refusal when a differential or
 * incremental there applies on it.
 */
export async function deleteFromDestination(
  cfg: LoadedConfig,
  name: string,
  id: string,
  confirm: (check: RemoteDeleteCheck) => Promise<boolean>,
): Promise<{ check: RemoteDeleteCheck; deleted: boolean }> {
  return withDestination(cfg, name, async (dest, source) => {
    const key = setKey(source, id);
    const where = `${dest.describe()}/${key}`;
    const complete = (await withRetries(() => dest.listSets(source))).map((r) => r.id);
    const files = await withRetries(() => heldAcross(() => dest.listFiles(key, { temps: true })));
    if (!complete.includes(id) && !files.length) {
      // No file of it there, but maybe its empty folders: what a delete (or prune) cut short after its files left,
      // which nothing else removes and which this run, the one the operator repeats, takes away (folder, sftp, rclone).
      await dest.removeEmptyDirs?.(key);
      throw new NotFoundError(
        `Set ${id} is not at destination "${name}" (${where}).`,
        `\`respaldo list --from ${name}\` lists the sets there.`,
      );
    }
    const real = files.filter((f) => !f.temp);
    // Every manifest there, its head alone: the sets that apply on this one, and what it is to each database there.
    // This set's entries are gone through as its manifest is read (what it stores is not a file someone put there).
    let notStored: string[] = [];
    const { manifests, damaged } = await readRemoteManifests(
      dest,
      complete.map((x) => ({ source, id: x })),
      {
        each: (r, head, entries) => {
          if (r.id === id)
            notStored = notWrittenByRespaldo(
              real.map((f) => f.path),
              head,
              [],
              entries.entries(),
            );
        },
      },
    );
    const dependents = manifests.filter(({ m }) => m.databases.some((d) => d.base === id && !d.error));
    if (dependents.length)
      throw chainBaseRefusal(
        id,
        dependents.map(({ m }) => m.id),
      );
    const m = manifests.find((x) => x.m.id === id)?.m ?? null;
    const problem = damaged.find((d) => d.id === id)?.problem ?? null;
    const sets = manifests.map((x) => summaryFromManifest(x.m, '', { keep: false, lastVerified: null }, x.files));
    const localCopy = existsSync(join(cfg.backupDir, id, MANIFEST_NAME));
    // Without a manifest to read (damaged, or none), what no copy writes is named: a note put in a folder made at
    // the manifest's name, or beside the stored folders, goes with the set, and is said first.
    const strays = m ? notStored : notFromACopy(real.map((f) => f.path));
    const check: RemoteDeleteCheck = {
      destination: name,
      where,
      id,
      state: m ? 'complete' : problem ? 'damaged' : 'incomplete',
      problem,
      files: real.length,
      bytes: real.reduce((n, f) => n + f.size, 0),
      keep: real.some((f) => f.path === KEEP_MARK) || existsSync(join(cfg.backupDir, id, KEEP_MARK)),
      localCopy,
      notes: remoteDeleteNotes({ id, dest: name, m, sets, strays, localCopy }),
    };
    if (!(await confirm(check))) return { check, deleted: false };
    const t0 = Date.now();
    try {
      // Its copy's claim goes with it (copy-claim.ts), first: while its manifest is there no copy of that id sends.
      const claims = await withRetries(() => dest.listFiles(`${source}/${CLAIMS_DIR}`));
      for (const c of claims.filter((f) => f.path.startsWith(`${id}.`) && !f.path.includes('/')))
        await withRetries(() => dest.delete(`${source}/${CLAIMS_DIR}/${c.path}`));
      await removeSetFolder(dest, key, files);
      await removeEmptyClaims(dest, source);
      await markPruned(cfg, id, name, new Date().toISOString());
    } catch (err) {
      writeLog(cfg.backupDir, 'delete-remote', { destination: name, setId: id, outcome: 'failed' }, cfg.secrets);
      throw err;
    }
    writeLog(
      cfg.backupDir,
      'delete-remote',
      { destination: name, setId: id, outcome: 'ok', state: check.state, durationMs: Date.now() - t0, ranBy: ranBy() },
      cfg.secrets,
    );
    return { check, deleted: true };
  });
}
