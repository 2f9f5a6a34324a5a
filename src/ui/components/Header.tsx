import { Box, Text } from 'ink';
import { RespaldoError, asOperatorError } from '../../core/errors.js';
import { sayMessage } from '../i18n/index.js';
import { formatAge, formatBytes, formatDate, formatShortDate, truncateStart } from '../format.js';
import type { HeaderStatus, MenuConfig } from '../engine-facade.js';
import { staleDatabases } from '../staleness.js';
import type { AsyncState } from '../use-async.js';
import type { UiContextValue } from '../use-ui.js';
import { useUi } from '../use-ui.js';

export interface HeaderModel {
  title: string;
  summary: string;
  error: string | null;
  warnings: string[];
  /** Lines the header takes on screen (the menu gives the rest to the screen). */
  height: number;
}

const MAX_WARNINGS = 3;

/**
 * A new server: no usable set in this backup folder (safety copies of restores aside), so its sets are at a
 * destination. The header then says the way there, and the restore wizard starts on the first destination.
 */
export function noSetsHere(s: HeaderStatus): boolean {
  return s.setCount === 0 && !s.damagedCount;
}

/**
 * What the header says (pure): config file in use, backup folder, number of sets, the newest
 * one's age, the newest restore drill (✓, or FAILED), free space, and a warning for the lock, for a
 * newest set not copied to every destination, for each database whose newest good backup is older
 * than the schedule promises, one for those never backed up, and for each database whose last restore drill
 * failed; with no set here and destinations configured, first, the way to restore from one (unless `restoring`: the
 * restore wizard is open).
 */
export function headerModel(
  config: MenuConfig,
  status: AsyncState<HeaderStatus>,
  ui: Pick<UiContextValue, 't' | 'lang' | 'theme' | 'facade'>,
  at: Date,
  width: number,
  restoring = false,
): HeaderModel {
  const { t, lang, theme, facade } = ui;
  const g = theme.glyphs;
  let parts: string[] = [t.common.loading];
  let keep = 1;
  let warnings: string[] = [];
  let error: string | null = null;
  if (status.state === 'done') {
    const s = status.value;
    parts = s.newest
      ? [
          t.header.sets(s.setCount),
          t.header.newest(t.time.ago(formatAge(at.getTime() - new Date(s.newest.startedAt).getTime()))),
        ]
      : // Beside damaged sets, "no backups yet" sent the operator to make one where the disk held their backups.
        [
          s.damagedCount
            ? t.header.noUsableSets(s.damagedCount)
            : s.safetyCount
              ? t.header.noSetsButSafety(s.safetyCount)
              : t.header.noSets,
        ];
    keep = parts.length;
    const newestDrill = s.drills
      .map((d) => d.at)
      .sort()
      .at(-1);
    if (newestDrill) {
      const age = t.time.ago(formatAge(at.getTime() - new Date(newestDrill).getTime()));
      parts.push(
        t.header.drilled(
          age,
          s.drills.every((d) => d.ok),
        ),
      );
    }
    if (s.freeBytes !== null) parts.push(t.header.free(formatBytes(s.freeBytes)));
    if (s.lockHolder === 'unreadable') warnings.push(t.header.lockUnreadable);
    else if (s.lockHolder)
      warnings.push(t.header.lock(s.lockHolder.purpose, s.lockHolder.pid, formatDate(s.lockHolder.since)));
    if (s.notOffsite.length) warnings.push(t.header.notOffsite(s.notOffsite.join(', ')));
    for (const f of s.looseSecrets) warnings.push(t.header.looseSecret(f.path, f.mode));
    // One line each at the width: a killed run first says its pid (status lists what it left), an interrupted one
    // the databases it restored before it stopped (their count when their names do not fit; `status` names them).
    for (const { setId, at: stopped, restored, outcome, pid } of s.stoppedRestores ?? []) {
      const fits = (line: string) => [...line].length <= width - 1;
      const tries =
        outcome === 'killed'
          ? [
              t.header.killedRestore(setId, formatDate(stopped), pid),
              t.header.killedRestore(setId, formatShortDate(stopped), pid),
              t.header.killedRestore(setId, formatShortDate(stopped), null),
            ]
          : [
              t.header.stoppedRestore(setId, formatDate(stopped), restored),
              t.header.stoppedRestore(setId, formatShortDate(stopped), restored),
            ];
      warnings.push(
        tries.find(fits) ??
          (outcome === 'interrupted' && restored.length > 1
            ? t.header.stoppedRestoreCount(setId, formatShortDate(stopped), restored.length)
            : tries.at(-1)!),
      );
    }
    const stale = staleDatabases(s.lastGood, config.schedule, (w, tz, n, from) => facade.nextRuns(w, tz, n, from), at);
    const never = stale.filter((d) => !d.lastGood).map((d) => d.database);
    // The names when they fit the width, else their count (the health screen names them).
    const neverLine =
      never.length > 1 && [...t.header.neverBacked(never)].length > width - 1
        ? t.header.neverBackedCount(never.length)
        : t.header.neverBacked(never);
    warnings = [
      // A new server, its old one's sets off-site: the way to them first (never behind "… and N more"), not only
      // that nothing was backed up here; not inside the restore wizard, which is that way.
      ...(noSetsHere(s) && config.destinations.length && !restoring
        ? [t.header.restoreFromOffsite(config.destinations)]
        : []),
      ...warnings,
      ...stale.flatMap((d) =>
        d.lastGood
          ? [
              t.header.stale(
                d.database,
                t.time.ago(formatAge(at.getTime() - d.lastGood.getTime())),
                formatAge(d.limitHours * 3_600_000),
              ),
            ]
          : [],
      ),
      ...(never.length ? [neverLine] : []),
      ...s.drills
        .filter((d) => !d.ok)
        .map((d) =>
          t.header.drillFailed(d.database, t.time.ago(formatAge(at.getTime() - new Date(d.at).getTime())), d.setId),
        ),
    ];
  } else if (status.state === 'error') {
    parts = [];
    // in the menu's language, as the error box says it: a raw system error as its operator error, a phrase as said
    const said = asOperatorError(status.error);
    const phrases = said instanceof RespaldoError ? said.phrases : undefined;
    const message = said instanceof Error ? said.message : String(said);
    error = t.header.statusFailed(sayMessage(lang, phrases, message, theme.unicode));
  }
  const title = `${t.header.config}: ${truncateStart(config.file, Math.max(20, width - 24), g.ellipsis)}`;
  const sep = ` ${g.dot} `;
  const label = `${t.header.folder}: `;
  // The folder is shown whole when it can be: the least important facts (free space) go first.
  while (parts.length > keep && label.length + config.backupDir.length + (sep + parts.join(sep)).length > width - 1)
    parts.pop();
  const summary = parts.length ? sep + parts.join(sep) : '';
  const folder =
    label + truncateStart(config.backupDir, Math.max(16, width - 1 - label.length - summary.length), g.ellipsis);
  return {
    title,
    summary: folder + summary,
    error,
    warnings,
    height: 3 + (error ? 1 : 0) + Math.min(warnings.length, MAX_WARNINGS) + (warnings.length > MAX_WARNINGS ? 1 : 0),
  };
}

export function Header({ model, width }: { model: HeaderModel; width: number }) {
  const { t, theme } = useUi();
  const shown = model.warnings.slice(0, MAX_WARNINGS);
  return (
    <Box flexDirection="column" flexShrink={0}>
      <Text wrap="truncate-end">
        <Text bold color={theme.colors.accent}>
          {t.appName}
        </Text>{' '}
        {theme.glyphs.dot} {model.title}
      </Text>
      <Text wrap="truncate-end">{model.summary}</Text>
      {model.error ? (
        <Text color={theme.colors.error} wrap="truncate-end">
          {model.error}
        </Text>
      ) : null}
      {shown.map((w, i) => (
        <Text key={i} color={theme.colors.warn} bold wrap="truncate-end">
          {w}
        </Text>
      ))}
      {model.warnings.length > shown.length ? (
        <Text color={theme.colors.warn}>{t.header.more(model.warnings.length - shown.length)}</Text>
      ) : null}
      <Text color={theme.colors.muted}>{theme.glyphs.hline.repeat(Math.min(width, 100) - 1)}</Text>
    </Box>
  );
}
