import type { RestorePlan } from '../../engine-facade.js';
import { foldText, type Row } from '../../fold.js';
import { formatLocal } from '../../../core/format.js';
import { formatBytes } from '../../format.js';
import type { PlanUi } from '../restore-rows.js';
import { startedThenPhrases } from '../../../engine/chain.js';
import { english } from '../../../core/phrases.js';
import { say } from '../../i18n/index.js';

/**
 * Pure: what the plan step shows above the plan when the restore is not of a local set: the preview
 * of a restore "as of" a time (the CLI's `restore --at`: the set reached, the exact point, the sets
 * applied in order with their total stored size, the newer sets passed over), or the destination the
 * set is fetched from once confirmed (or streams from, when there is no room to fetch it).
 */
export function sourceRows(plan: RestorePlan, from: string | null, ui: PlanUi, width: number): Row[] {
  const { t, theme } = ui;
  const rows: Row[] = [];
  if (from) {
    const said = plan.options.filesAt?.streamed ? t.restore.streamedFrom(from) : t.restore.fetchFrom(from);
    rows.push(...foldText(said, width, { color: theme.colors.ok }, '  '));
  }
  const at = plan.at;
  if (!at) return rows;
  const arrow = theme.unicode ? '→' : '->';
  // A time written to the second or minute a set started names that set: which one, why, and the one before it
  const [named, before] = startedThenPhrases(at).map((p) => say(ui.lang, p, english(p), theme.unicode));
  const head = named ?? t.restore.atHead(formatLocal(at.at, { seconds: true }), at.setId);
  rows.push(...foldText(head, width, { bold: true }, '  '));
  const beforeRows = before ? foldText(`  ${before}`, width, {}, '    ') : [];
  // The sets passed over on the way (the newest five), each with why
  const passedRows = () =>
    at.skipped
      .slice(0, 5)
      .flatMap((s) =>
        foldText(
          `  ${t.restore.atPassed(s.id, say(ui.lang, s.reasonPhrase, s.reason, theme.unicode))}`,
          width,
          { color: theme.colors.muted },
          '    ',
        ),
      );
  if (!at.databases.length) {
    // The files alone: whole in the set, no chain applied.
    const point = formatLocal(at.point, { seconds: true });
    rows.push(...foldText(`  ${t.restore.atFiles(at.setId, point)}`, width, {}, '    '));
    return [...rows, ...passedRows(), ...beforeRows];
  }
  rows.push(
    ...foldText(
      `  ${
        at.taken && formatLocal(at.taken, { seconds: true }) !== formatLocal(at.point, { seconds: true })
          ? t.restore.atPoint(
              formatLocal(at.taken, { seconds: true }),
              formatLocal(at.point, { seconds: true }),
              at.setId,
            )
          : t.restore.atExact(formatLocal(at.point, { seconds: true }))
      }`,
      width,
      {},
      '    ',
    ),
  );
  rows.push(...foldText(`  ${t.restore.atOrder(at.order.length, formatBytes(at.totalBytes))}`, width, {}, '    '));
  for (const d of at.databases) {
    const chain = d.chain.members
      .map((m) => `${m.id} ${t.common.setType[m.type] ?? m.type} ${formatBytes(m.storedBytes)}`)
      .join(` ${arrow} `);
    rows.push(...foldText(`    ${d.database}: ${chain}`, width, {}, '      '));
  }
  return [...rows, ...passedRows(), ...beforeRows];
}
