import { RefusedError } from '../../core/errors.js';
import type { DriverContext } from '../driver.js';
import { quoteName } from './names.js';
import { planSettings, type DbSettings } from './plan.js';
import { multiUserStatement, planSwap } from './swap-plan.js';
import { Session, SwapBrokenError, type DbInfo, type ServerInfo } from './session.js';
import { said } from '../../core/phrases.js';

/** The swap by renames shared by restore and rollback, and the settings put back after it. */

export async function ensureNoSessions(
  session: Session,
  server: ServerInfo,
  live: string,
  terminate: boolean,
): Promise<void> {
  if (terminate) return;
  if (!server.canViewServerState) {
    throw new RefusedError(
      `Cannot tell whether other sessions use "${live}": the login lacks the VIEW SERVER STATE permission.`,
      'Run again with --terminate-connections to close any sessions on the database during the swap, or grant VIEW SERVER STATE to the login.',
    );
  }
  const users = await session.sessions(live);
  if (users.length > 0) {
    throw new RefusedError(
      `Database "${live}" is in use by ${users.length} session(s): ${users.slice(0, 5).join(', ')}${users.length > 5 ? ', …' : ''}.`,
      'Stop the applications that use it, or run again with --terminate-connections to close their sessions (open transactions are rolled back).',
    );
  }
}

/**
 * Runs the swap of `incoming` (the temporary database, or a safety copy swapped back) into place.
 * Steps that lose their lock to another connection are retried (SWAP_ATTEMPTS). On a failure it
 * puts the old live database back under its name; in every case it sets the old live database
 * back to MULTI_USER.
 */
export async function executeSwap(
  session: Session,
  ctx: DriverContext,
  item: string,
  opts: Parameters<typeof planSwap>[0],
): Promise<{ safety: string | null }> {
  const plan = planSwap(opts);
  if (!opts.liveExists) {
    for (const st of plan.steps) await session.run(st, undefined, false, true);
    return { safety: null };
  }
  let stage: 'none' | 'single-user-attempted' | 'live-renamed' | 'done' = 'none';
  try {
    stage = 'single-user-attempted';
    await session.run(plan.steps[0]!, undefined, false, true);
    stage = 'live-renamed';
    await session.run(plan.steps[1]!, undefined, false, true);
    stage = 'done';
    return { safety: plan.safety };
  } catch (err) {
    if (stage === 'live-renamed') {
      try {
        await session.run(plan.rollbackRename!, undefined, false, true);
        stage = 'single-user-attempted';
      } catch (rollbackErr) {
        throw new SwapBrokenError(
          'failed',
          `The swap failed (${(err as Error).message}) and renaming the previous database back failed too (${(rollbackErr as Error).message}). The previous database is intact as "${plan.safety}".`,
          `Run: ALTER DATABASE ${quoteName(plan.safety!)} MODIFY NAME = ${quoteName(opts.live)}; ALTER DATABASE ${quoteName(opts.live)} SET MULTI_USER; (respaldo also does this on the next restore).`,
        );
      }
    }
    throw err;
  } finally {
    if (stage !== 'none') {
      const renamed = stage === 'done' ? plan.finallyAfterSwap! : multiUserStatement(plan.safety!, true);
      const st = stage === 'done' || stage === 'live-renamed' ? renamed : plan.finallyBeforeRename!;
      try {
        await session.run(st, undefined, false, true);
      } catch (muErr) {
        const error = (muErr as Error).message;
        ctx.reporter.emit({ type: 'warning', item, ...said('mssql.multiUserFailed', { error, sql: st.sql }) });
      }
    }
  }
}

/**
 * After an in-place swap: gives the new live database the settings recorded at backup time
 * (RESTORE resets TRUSTWORTHY and the owner, and may leave Service Broker off). Each setting that
 * cannot be put back is a warning naming it and the statement to run; the restore stands.
 */
export async function putSettingsBack(
  session: Session,
  ctx: DriverContext,
  item: string,
  live: string,
  recorded: DbSettings,
  safety: string | null,
): Promise<void> {
  let current: DbInfo | null;
  try {
    current = await session.databaseInfo(live);
  } catch (err) {
    const error = (err as Error).message;
    ctx.reporter.emit({ type: 'warning', item, ...said('mssql.settingsUnread', { live, error }) });
    return;
  }
  if (!current) return;
  const failed: string[] = [];
  for (const step of planSettings(live, recorded, current.settings, safety)) {
    try {
      await session.run(step.statement, undefined, false, true);
      ctx.log(`sqlserver: put back ${step.setting} = ${step.value} on ${live}`);
    } catch (err) {
      failed.push(`${step.setting} ${step.value} (${(err as Error).message}; run: ${step.statement.sql})`);
    }
  }
  if (failed.length > 0) {
    ctx.reporter.emit({ type: 'warning', item, ...said('mssql.settingsNotBack', { live, failed: failed.join('; ') }) });
  }
}
