import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { RespaldoError } from '../../core/errors.js';
import type { DatabaseConfig } from '../../core/types.js';
import { said, type Said } from '../../core/phrases.js';
import type { DriverContext } from '../driver.js';
import {
  dropByStateStatement,
  parseDrillName,
  planDrillChecks,
  nameProblem,
  parseStagingName,
  quoteName,
  restoreFilePrefix,
  type Statement,
} from './names.js';
import { listDatabasesStatement } from './plan.js';
import { parseRound } from '../shared/names.js';
import { multiUserStatement, renameStatement } from './swap-plan.js';
import { resolveSettings } from './config.js';
import { readJournals, removeQuietly, str } from './session.js';

import { type OpenSession, quietCtx } from './server.js';

/** Crash recovery: the restore journals and the derived names of temporary, safety and scratch databases. */

export async function recoverSqlServer(open: OpenSession, db: DatabaseConfig, ctx: DriverContext): Promise<Said[]> {
  const s = resolveSettings(db);
  const journals = await readJournals(s.localBackupDir, db.name, ctx);
  const session = await open(s, ctx, `check ${s.database} for an interrupted restore`);
  const actions: Said[] = [];
  try {
    const rows = await session.run(listDatabasesStatement(), undefined, false);
    const dbs = new Map(rows.map((r) => [String(r.name), { state: str(r.state), userAccess: str(r.userAccess) }]));
    const lives = new Set<string>([s.database, ...journals.map((j) => j.journal.live)]);
    for (const live of lives) {
      if (nameProblem(live)) continue;
      const mine = journals.filter((j) => j.journal.live === live);
      // By set: its temporary database and its newest safety copy (a set restored in place again while an
      // earlier restore's copy was kept has `…__pre_restore_<set>__2`: that one is what its swap set aside).
      const bySet = new Map<string, { temp?: string; safety?: string; round?: number }>();
      for (const name of dbs.keys()) {
        const parsed = parseStagingName(name, live);
        if (!parsed) continue;
        const { setId, round } = parseRound(parsed.setId);
        const entry = bySet.get(setId) ?? {};
        if (parsed.kind === 'temp') entry.temp = name;
        else if (round > (entry.round ?? 0)) Object.assign(entry, { safety: name, round });
        bySet.set(setId, entry);
      }
      const run = async (st: Statement, line: Said): Promise<void> => {
        await session.run(st, undefined, false, true);
        actions.push(line);
      };
      // A rollback (swap back) cut in the middle: the operator asked for the kept copy, which is
      // intact, so the swap is finished; when it had not started, only MULTI_USER is put back.
      const handled = new Set<string>();
      for (const { journal: j } of mine.filter((x) => x.journal.kind === 'swap-back')) {
        const incoming = j.temp;
        const kept = parseStagingName(incoming, live);
        if (kept) handled.add(parseRound(kept.setId).setId);
        if (j.safety) handled.add(j.setId);
        if (!dbs.has(live) && dbs.has(incoming)) {
          const replaced = j.safety && dbs.has(j.safety) ? j.safety : '';
          const line = said('recover.mssqlRollbackFinished', { incoming, live, replaced });
          await run(renameStatement(incoming, live), line);
          dbs.set(live, dbs.get(incoming)!);
          dbs.delete(incoming);
        } else if (dbs.get(live)?.userAccess === 'SINGLE_USER' && dbs.has(incoming)) {
          const line = said('recover.mssqlNotRenamed', { live });
          await run(multiUserStatement(live, true), line);
        }
        if (j.safety && dbs.get(j.safety)?.userAccess === 'SINGLE_USER') {
          await run(multiUserStatement(j.safety, true), said('recover.mssqlSafetyMultiUser', { safety: j.safety }));
        }
      }
      const orphanSafeties = [...bySet].filter(([id, f]) => !handled.has(id) && f.safety && !f.temp);
      const orphanNames = orphanSafeties.map(([, f]) => f.safety!);
      if (!dbs.has(live) && orphanSafeties.length > 1 && ![...bySet.values()].some((f) => f.temp)) {
        throw new RespaldoError(
          'failed',
          `"${live}" is missing and ${orphanNames.length} safety copies exist (${orphanNames.join(', ')}); ` +
            'respaldo cannot tell which one was live last (its journal is gone). Nothing was changed.',
          `Rename the one you want back by hand: ALTER DATABASE [<safety copy>] MODIFY NAME = ${quoteName(live)}; ` +
            `ALTER DATABASE ${quoteName(live)} SET MULTI_USER;`,
        );
      }
      for (const [setId, found] of bySet) {
        if (handled.has(setId)) continue;
        const phase = mine.find((j) => j.journal.setId === setId)?.journal.phase ?? null;
        const liveRow = dbs.get(live);
        // Only a temporary database that recovered (ONLINE) is ever renamed in: one left RESTORING (a chain cut
        // before its last step), SUSPECT or RECOVERY_PENDING is dropped as it is, and the safety copy goes back.
        const tempState = found.temp ? (dbs.get(found.temp)?.state ?? null) : null;
        const dropTemp = (temp: string): Statement =>
          dropByStateStatement(temp, tempState, `drop the temporary database ${temp}`);
        if (found.safety) {
          if (!liveRow && found.temp && tempState === 'ONLINE') {
            await run(
              renameStatement(found.temp, live),
              said('recover.mssqlSwapFinished', { temp: found.temp, live, safety: found.safety }),
            );
            dbs.set(live, dbs.get(found.temp)!);
            dbs.delete(found.temp);
          } else if (!liveRow) {
            await run(
              renameStatement(found.safety, live),
              said('recover.mssqlSwapUndone', { safety: found.safety, live }),
            );
            await run(multiUserStatement(live), said('recover.mssqlMultiUser', { live }));
            dbs.set(live, { state: 'ONLINE', userAccess: 'MULTI_USER' });
            if (found.temp) await run(dropTemp(found.temp), said('recover.mssqlDroppedTemp', { temp: found.temp }));
            continue;
          } else if (found.temp) {
            await run(dropTemp(found.temp), said('recover.mssqlDroppedTemp', { temp: found.temp }));
          }
          if (dbs.get(found.safety)?.userAccess === 'SINGLE_USER') {
            const line = said('recover.mssqlSafetyMultiUser', { safety: found.safety });
            await run(multiUserStatement(found.safety, true), line);
          }
        } else if (found.temp) {
          if (!liveRow && phase === 'swapping' && tempState === 'ONLINE') {
            await run(
              renameStatement(found.temp, live),
              said('recover.mssqlRestoreFinished', { temp: found.temp, live }),
            );
          } else {
            await run(
              dropTemp(found.temp),
              said('recover.mssqlRestoreUndone', { temp: found.temp, untouched: liveRow ? live : '' }),
            );
            if (liveRow?.userAccess === 'SINGLE_USER' && phase === 'swapping')
              await run(multiUserStatement(live), said('recover.mssqlMultiUser', { live }));
          }
        }
      }
      // Drills hold the folder lock, and recover runs under it: a scratch database found now is a dead drill's.
      for (const name of [...dbs.keys()].filter((n) => parseDrillName(n, live) !== null)) {
        await run(planDrillChecks(name, dbs.get(name)?.state ?? null).drop, said('recover.droppedDrill', { name }));
      }
      let leftovers: string[] = [];
      try {
        leftovers = (await fsp.readdir(s.localBackupDir)).filter(
          (n) => n.startsWith(restoreFilePrefix(live)) && n.endsWith('.bak'),
        );
      } catch {
        leftovers = [];
      }
      for (const n of leftovers)
        if ((await removeQuietly(join(s.localBackupDir, n), ctx)) === null)
          actions.push(said('recover.mssqlRemovedFile', { file: join(s.localBackupDir, n) }));
      for (const j of mine)
        if ((await removeQuietly(j.path, ctx)) === null)
          actions.push(said('recover.mssqlRemovedJournal', { file: j.path }));
    }
    return actions;
  } finally {
    await session.close();
  }
}

/** Read-only: what interrupted restores and rollbacks left for `db` (see Driver.findLeftovers). */
export async function findSqlServerLeftovers(open: OpenSession, db: DatabaseConfig): Promise<string[]> {
  const s = resolveSettings(db);
  const journals = await readJournals(s.localBackupDir, db.name, quietCtx);
  const session = await open(s, quietCtx, `check ${s.database} for an interrupted restore`);
  const lines: string[] = [];
  const how = `respaldo recovers it at the start of the next restore or backup of ${db.name}`;
  try {
    const rows = await session.run(listDatabasesStatement(), undefined, false);
    const dbs = new Map(rows.map((r) => [String(r.name), { userAccess: str(r.userAccess) }]));
    const lives = new Set<string>([s.database, ...journals.map((j) => j.journal.live)]);
    for (const live of lives) {
      if (nameProblem(live)) continue;
      const safeties: string[] = [];
      for (const [name, row] of dbs) {
        const parsed = parseStagingName(name, live);
        if (parsed?.kind === 'temp') {
          lines.push(`temporary database "${name}" left by an interrupted restore of ${live}; ${how}`);
        }
        if (parseDrillName(name, live) !== null) {
          const drop = `the next respaldo create, restore or drill of ${db.name} drops it`;
          lines.push(`scratch database "${name}" left by an interrupted restore drill of ${live}; ${drop}`);
        }
        if (parsed?.kind === 'safety') {
          safeties.push(name);
          if (row.userAccess === 'SINGLE_USER') {
            lines.push(`safety copy "${name}" is still SINGLE_USER after an interrupted swap; ${how}`);
          }
        }
      }
      if (!dbs.has(live) && safeties.length > 0) {
        lines.push(
          `"${live}" is missing: a swap was cut in the middle (kept: ${safeties.join(', ')}); ` +
            `run respaldo restore (or respaldo create) for ${db.name} to finish or undo it`,
        );
      } else if (dbs.get(live)?.userAccess === 'SINGLE_USER' && journals.some((j) => j.journal.live === live)) {
        lines.push(`"${live}" is still SINGLE_USER after an interrupted swap; ${how}`);
      }
      let files: string[] = [];
      try {
        const prefix = restoreFilePrefix(live);
        files = (await fsp.readdir(s.localBackupDir)).filter((n) => n.startsWith(prefix) && n.endsWith('.bak'));
      } catch {
        files = [];
      }
      for (const n of files) {
        lines.push(`restore file ${join(s.localBackupDir, n)} left by an interrupted restore; ${how}`);
      }
    }
    for (const { path, journal: j } of journals) {
      const what = j.kind === 'swap-back' ? 'rollback' : 'restore';
      lines.push(`journal ${path} of an interrupted ${what} of ${j.live} (set ${j.setId}, ${j.phase}); ${how}`);
    }
    return lines;
  } finally {
    await session.close();
  }
}
