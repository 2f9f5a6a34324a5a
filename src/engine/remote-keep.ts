import { NotFoundError, UsageError } from '../core/errors.js';
import type { LoadedConfig } from '../core/types.js';
import { setKey, type Destination } from '../destinations/destination.js';
import { RespaldoError, asOperatorError } from '../core/errors.js';
import { english, phrase, type KeepFailure } from '../core/phrases.js';
import { KEEP_MARK, setDir, setKeep } from './catalog.js';
import { bufferStream, readCopies, withRetries } from './copy.js';
import { withDestination } from './remote.js';
import { isSetId } from './set-id.js';

/**
 * Keep marks at destinations. `respaldo keep ID` marks the local set; the mark also goes to every
 * destination the set is at, as a `keep` file beside its files (`<source>/<id>/keep`), so that
 * `prune --from` there honours it from any server: a server rebuilt with an empty backup folder
 * would otherwise prune sets the operator chose to keep. `copy` sends the mark with a set that has
 * one; it never removes a mark there (only `keep --unset` does).
 */

/** Writes (`keep`) or removes the keep mark of the set at `key` (`<source>/<id>`) of `dest`. */
export async function putKeepMark(dest: Destination, key: string, keep: boolean): Promise<void> {
  const mark = `${key}/${KEEP_MARK}`;
  if (!keep) return dest.delete(mark);
  const body = Buffer.from(`${new Date().toISOString()}\n`);
  return dest.put(mark, bufferStream(body), body.length);
}

/**
 * Sets or clears the keep mark of set `id` at destination `name` (`respaldo keep ID --from NAME`, and
 * `respaldo keep ID` for each destination the local set is copied to). NotFoundError when the set is
 * not complete there.
 */
export async function setRemoteKeep(
  cfg: LoadedConfig,
  name: string,
  id: string,
  keep: boolean,
  signal?: AbortSignal,
): Promise<void> {
  // `keep "$ID" --from nas` with the variable not set was "No set  of this server" (exit 8), after a listing.
  if (!isSetId(id))
    throw new UsageError(
      `"${id}" is not a backup set id (YYYYMMDD_HHMMSS).`,
      `Run \`respaldo list --from ${name}\` to see the set ids.`,
    );
  await withDestination(
    cfg,
    name,
    async (dest, source) => {
      const there = await withRetries(() => dest.listSets(source));
      if (!there.some((s) => s.id === id)) {
        const message = phrase('keep.noSetThere', { set: id, source, dest: name });
        const hint = phrase('keep.noSetThereHint', { dest: name });
        throw new NotFoundError(english(message), english(hint)).withPhrases(message, hint);
      }
      await withRetries(() => putKeepMark(dest, setKey(source, id), keep));
    },
    signal,
  );
}

/**
 * `respaldo keep ID` (and the menu's p): marks (or clears) the local set, then each destination it is
 * copied to. A destination that fails is returned with its error (the local mark stands); an
 * interruption is thrown.
 */
export async function keepSet(
  cfg: LoadedConfig,
  id: string,
  keep: boolean,
  signal?: AbortSignal,
): Promise<{ destinations: string[]; failed: KeepFailure[] }> {
  await setKeep(cfg, id, keep);
  const copied = Object.entries(readCopies(setDir(cfg, id)))
    .filter(([name, mark]) => mark.ok && !mark.prunedAt && (cfg.destinations ?? []).some((d) => d.name === name))
    .map(([name]) => name);
  const destinations: string[] = [];
  const failed: KeepFailure[] = [];
  for (const name of copied) {
    try {
      await setRemoteKeep(cfg, name, id, keep, signal);
      destinations.push(name);
    } catch (err) {
      // The system's own error at a destination (a folder destination's EISDIR where the mark goes) is a failure
      // there too, said as the operator error it is where it is one; it was thrown as a bug.
      const said = asOperatorError(err);
      const system = said instanceof Error && typeof (said as NodeJS.ErrnoException).code === 'string';
      if (!(said instanceof RespaldoError) && !system) throw err;
      if (said instanceof RespaldoError && said.kind === 'interrupted') throw err;
      // its phrase too: the menu says the destination's error in its language
      const phrase = said instanceof RespaldoError ? said.phrases?.message : undefined;
      failed.push({ destination: name, error: (said as Error).message, ...(phrase ? { phrase } : {}) });
    }
  }
  return { destinations, failed };
}
