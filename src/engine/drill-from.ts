import { RespaldoError } from '../core/errors.js';
import { english, phrase } from '../core/phrases.js';
import type { Reporter } from '../core/events.js';
import type { LoadedConfig } from '../core/types.js';
import { runDrill, type DrillOptions, type DrillOutcome } from './drill.js';
import { checkBeforeFetch, fetchSet, type FetchedSet } from './remote-fetch.js';
import { driverFor } from '../drivers/registry.js';
import { drillTarget } from './drill-target.js';
import { readManifestLean } from './manifest.js';

/**
 * `drill ID|latest --from NAME`: proves the copy at a destination restores, on a server whose backup folder is
 * empty too. The set (`latest`: chosen there as `restore latest --from` chooses it) and the earlier sets of its
 * chains are fetched into the hidden, journaled folder restore --from uses, every file checked against its manifest
 * as it arrives; then the normal drill runs on that copy. The copy is removed whatever happens (an interrupted or
 * killed run's is swept by the next run, as restore --from's). Damage found while fetching is a VerifyError (exit
 * 5): nothing was drilled, nothing recorded. The key of an encrypted set is checked on the manifests, before any
 * stored file is fetched. The outcome is recorded in the local set's `drilled.json` when this backup folder holds
 * the set, else only returned (`notHere`).
 */
export async function runDrillFrom(
  cfg: LoadedConfig,
  name: string,
  id: string,
  opts: Omit<DrillOptions, 'fetched'>,
  reporter: Reporter,
): Promise<DrillOutcome & { chainIds: string[] }> {
  // The databases named, else every configured one (what a local `latest` holds; a set lacking one fetches the
  // others): restore's selection, where --files without --db means the files alone, a drill's --files adds them.
  const databases = opts.databases?.length ? opts.databases : cfg.databases.map((d) => d.name);
  const sel = {
    ...(databases.length ? { databases } : {}),
    ...(opts.files ? { files: true } : {}),
    manifestsOnly: true,
    forDrill: true,
  };
  const manifests = await fetchSet(cfg, name, id, sel, reporter, opts.signal);
  try {
    if (!manifests.fetchFiles) throw noRoomToDrill(cfg, name, manifests);
    await checkBeforeFetch(cfg, manifests);
    const held = readManifestLean(manifests.dir, { remember: false }).head.databases.filter(
      (d) => !d.error && databases.includes(d.name),
    );
    await checkServers(
      cfg,
      manifests.id,
      held.map((d) => d.name),
    );
    const full = await manifests.fetchFiles(reporter, opts.signal);
    if (full.streamed) throw noRoomToDrill(cfg, name, full);
    const outcome = await runDrill(cfg, full.id, { ...opts, fetched: { name, dir: full.dir } }, reporter);
    return { ...outcome, chainIds: full.chainIds };
  } finally {
    await manifests.remove();
  }
}

/** A drill from a destination fetches the set first: with no room for it here (a restore would stream it), none. */
function noRoomToDrill(cfg: Pick<LoadedConfig, 'backupDir'>, name: string, f: FetchedSet): RespaldoError {
  const message = phrase('fetch.noRoomToDrill', {
    set: f.id,
    dest: name,
    because: f.streamedBecause ?? 'there is no room for it',
  });
  const hint = phrase('fetch.noRoomToDrillHint', { dir: cfg.backupDir });
  return new RespaldoError('failed', english(message), english(hint), { backupDir: cfg.backupDir }).withPhrases(
    message,
    hint,
  );
}

/**
 * The servers the drill restores into (a PostgreSQL database's, or drill.server), asked before the set is fetched:
 * one that cannot be used (down, no such host, a refused login) stops the drill now, as runDrill would once the set
 * had come, maybe hours later. Any other problem is the drill's to say when it runs.
 */
async function checkServers(cfg: LoadedConfig, setId: string, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const configured = cfg.databases.find((d) => d.name === name);
    if (!configured) continue;
    const db = drillTarget(cfg, configured);
    const driver = driverFor(db.engine);
    if (!driver.scratchName) continue;
    try {
      await driver.inspectTarget(db, { kind: 'side-by-side', name: driver.scratchName(db, setId) });
    } catch (err) {
      if (err instanceof RespaldoError && err.details?.['serverAway'] === true)
        throw err.withAftermath(phrase('drill.notRunServerAway', { set: setId, db: name }), { drillNotRun: true });
    }
  }
}
