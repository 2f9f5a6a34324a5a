import { english, phrase, type Phrase } from '../../core/phrases.js';
import { rollbackAdvice } from '../../engine/rollback-advice.js';
import type { RestoreOutcome, RestorePlan } from '../engine-facade.js';
import { foldSegs, foldText, type Row, type Seg } from '../fold.js';
import { formatBytes, formatDate } from '../format.js';
import { say, sayInMenu, sayMessage, sayTarget } from '../i18n/index.js';
import type { UiContextValue } from '../use-ui.js';

/* The restore plan and outcome as folded rows (pure), drawn by RestoreScreen in a scrolling window. */

/** A refusal as folded rows for a bordered box of `width` columns (border and padding take 4). */
export function refusalRows(r: RestorePlan['refusals'][number], ui: PlanUi, width: number): Row[] {
  const { t, lang, theme } = ui;
  const inner = Math.max(10, width - 4);
  const message = say(lang, r.phrases?.message, r.message, theme.unicode);
  const hint = sayInMenu(lang, r.phrases?.hint, r.hint, theme.unicode);
  return [
    ...foldText(`${t.common.error}: ${message}`, inner, { bold: true, color: theme.colors.error }),
    ...(hint ? foldText(`${t.common.hint}: ${hint}`, inner) : []),
  ];
}

export type PlanUi = Pick<UiContextValue, 't' | 'lang' | 'theme'>;

/** Whether a database of the plan replaces one that is there now (in place onto nothing creates it). */
function replacing(d: RestorePlan['databases'][number]): boolean {
  return d.replaces && d.state.exists;
}

/**
 * The plan as rows folded to `width`: source set, each target (replaced or created) with sizes and,
 * for one database, its steps; the files; the safety copy; how to roll back; the warnings. `broken`: the set's
 * chain cannot be restored (its status is said BROKEN, as the list says it).
 */
export function planRows(plan: RestorePlan, ui: PlanUi, width: number, opts: { broken?: boolean } = {}): Row[] {
  const { t, lang, theme } = ui;
  const text = (p: Phrase | undefined, en: string): string => say(lang, p, en, theme.unicode);
  const arrow = theme.unicode ? '→' : '->';
  const rows: Row[] = [];
  const add = (segs: Seg[], indent: string): void => void rows.push(...foldSegs(segs, width, indent));
  const status = opts.broken ? t.list.broken : (t.common.status[plan.setStatus as 'completed'] ?? plan.setStatus);
  add(
    [
      { text: `${t.restore.from}: ` },
      { text: plan.setId, bold: true },
      { text: ` (${formatDate(plan.setStartedAt)}, ${t.common.setType[plan.setType] ?? plan.setType}, ${status})` },
    ],
    '  ',
  );
  for (const d of plan.databases) {
    add(
      [
        { text: '  ' },
        {
          text: replacing(d) ? t.restore.willReplace : t.restore.willCreate,
          bold: true,
          color: replacing(d) ? theme.colors.warn : theme.colors.ok,
        },
        { text: ` ${d.database} ${arrow} ${sayTarget(lang, d.target)}` },
      ],
      '    ',
    );
    const now =
      d.state.exists && d.state.sizeBytes !== null ? ` (${t.restore.current(formatBytes(d.state.sizeBytes))})` : '';
    const size = formatBytes(d.estimatedRestoredBytes ?? d.rawBytes);
    const line = d.swapsBack
      ? t.restore.swapsBackLine(d.swapsBack, size)
      : `${t.restore.sizeLabel} ${t.restore.estimate(size, d.estimateSource)}`;
    add([{ text: `    ${line}${now}`, color: theme.colors.muted }], '    ');
    if (d.chain) {
      const sets = d.chain.map((x) => `${x.id} (${t.common.setType[x.type] ?? x.type})`).join(` ${arrow} `);
      const bytes = formatBytes(d.chain.reduce((n, x) => n + x.storedBytes, 0));
      const chain = phrase('plan.chain', { db: d.database, count: d.chain.length, sets, bytes });
      add([{ text: `    ${text(chain, english(chain))}` }], '      ');
    }
    if (plan.databases.length === 1)
      d.steps.forEach((s, i) =>
        add([{ text: `    ${i + 1}. ${text(d.stepPhrases?.[i], s)}`, color: theme.colors.muted }], '       '),
      );
  }
  if (plan.files) {
    const f = plan.files;
    add(
      [
        { text: '  ' },
        { text: t.restore.willCreate, bold: true, color: theme.colors.ok },
        { text: ` ${t.restore.filesNoun} (${f.count}, ${formatBytes(f.bytes)}) ${arrow} ${f.to}` },
      ],
      '    ',
    );
    // Some of the set's files (the paths typed): which, and how many of how many, as the CLI's plan says them.
    if (f.paths && f.ofSet) {
      add([{ text: `    ${t.restore.pathsOfSet(f.count, f.ofSet.count)}`, color: theme.colors.muted }], '      ');
      for (const p of f.paths)
        add(
          [{ text: `      ${p.path}: ${t.restore.pathFiles(p.count + p.symlinks)}`, color: theme.colors.muted }],
          '        ',
        );
    }
    // Decrypted on the way (age authenticates every chunk), each checked as it is read: said as the CLI plan says it.
    if (plan.encrypted && plan.options.checkAsRead && !plan.databases.length)
      add([{ text: `    ${t.restore.filesDecryptedAsRead}`, color: theme.colors.muted }], '    ');
  }
  const safety = plan.databases.some((d) => d.replaces)
    ? plan.safetyPhrases
      ? plan.safetyPhrases.map((p) => text(p, english(p))).join('; ')
      : plan.safety
    : t.restore.safetyNone;
  add([{ text: `${t.restore.safety}: `, bold: true }, { text: safety }], '  ');
  if (plan.databases.length > 0) {
    add([{ text: `${t.restore.rollback}:`, bold: true }], '');
    for (const d of plan.databases) add([{ text: `  ${d.database}: ${text(d.rollbackPhrase, d.rollback)}` }], '    ');
  }
  plan.warnings.forEach((w, i) =>
    add(
      [
        {
          text: `${t.common.status.warn}: ${sayInMenu(lang, plan.warningPhrases?.[i], w, theme.unicode)}`,
          color: theme.colors.warn,
        },
      ],
      '  ',
    ),
  );
  return rows;
}

/**
 * The outcome as rows folded to `width`: each database, the files, how to roll back (rollbackAdvice),
 * what was recovered, and the warnings of the run.
 */
export function outcomeRows(
  o: RestoreOutcome,
  plan: RestorePlan | null,
  ui: PlanUi,
  width: number,
  warnings: readonly string[] = [],
  configFile?: string,
): Row[] {
  const { t, lang, theme } = ui;
  const arrow = theme.unicode ? '→' : '->';
  const rows: Row[] = [];
  const add = (segs: Seg[], indent: string): void => void rows.push(...foldSegs(segs, width, indent));
  for (const d of o.databases) {
    const to = d.ok && d.restoredTo ? ` ${arrow} ${d.restoredTo}` : '';
    const error = d.error ? sayMessage(lang, d.phrases, d.error, theme.unicode) : '';
    add(
      [
        {
          text: `${d.ok ? t.common.status.ok : t.common.status.failed} ${d.name}${to}${error ? `: ${error}` : ''}`,
          bold: true,
          color: d.ok ? theme.colors.ok : theme.colors.error,
        },
      ],
      '  ',
    );
    if (d.hint)
      add([{ text: `  ${t.common.hint}: ${sayInMenu(lang, d.phrases?.hint, d.hint, theme.unicode)}` }], '    ');
  }
  if (o.filesRestoredTo)
    add(
      [{ text: `${t.common.status.ok} ${t.details.files} ${arrow} ${o.filesRestoredTo}`, color: theme.colors.ok }],
      '  ',
    );
  for (const a of plan ? rollbackAdvice(plan, o, configFile) : []) {
    rows.push([]);
    if (a.kind === 'restore-set') {
      add([{ text: `${t.restore.safetySet}: ${a.setId}`, bold: true }], '  ');
      add([{ text: `  ${t.restore.rollback}: ${a.command}` }], '    ');
    } else if (a.kind === 'raw-copy') {
      add([{ text: t.restore.rawSafety(a.database, a.setId), bold: true }], '  ');
      add([{ text: `  ${t.restore.rawSafetyHow}: ${a.command}` }], '    ');
    } else if (a.kind === 'rolled-back') {
      add([{ text: t.restore.rolledBack(a.database, a.keptDatabase, a.setId), bold: true }], '  ');
    } else {
      add([{ text: t.restore.safetyDatabase(a.database, a.safetyDatabase, a.listedIn ?? '-'), bold: true }], '  ');
      add([{ text: `  ${t.restore.rollback}: ${say(lang, a.howPhrase, a.how, theme.unicode)}` }], '    ');
    }
  }
  for (const id of o.removedSafetySetIds) add([{ text: t.restore.safetyRemoved(id), color: theme.colors.muted }], '  ');
  o.recovered.forEach((r, i) =>
    add(
      [
        {
          text: `${t.common.status.warn}: ${say(lang, o.recoveredPhrases?.[i], r, theme.unicode)}`,
          color: theme.colors.warn,
        },
      ],
      '  ',
    ),
  );
  // What the run warned of as it went (a read resumed, a file decrypted on the way, a damaged database kept as it was).
  if (warnings.length) rows.push([]);
  for (const w of warnings) add([{ text: `${t.common.status.warn}: ${w}`, color: theme.colors.warn }], '    ');
  return rows;
}
