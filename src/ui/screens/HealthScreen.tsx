import { useState } from 'react';
import { Text } from 'ink';
import { ErrorBox } from '../components/ErrorBox.js';
import { ScrollRows, scrollWindow } from '../components/Rows.js';
import { Screen } from '../components/Screen.js';
import type { MenuHealth } from '../engine-facade.js';
import { foldText, type Row } from '../fold.js';
import { formatAge, formatBytes, formatDate } from '../format.js';
import { say } from '../i18n/index.js';
import { useLoad } from '../use-async.js';
import { isCtrlC, isDown, isUp, useHeldKeys, useKeys } from '../use-keys.js';
import { helpRows, useBodyRows, useScreenSize } from '../use-screen-size.js';
import { useUi, type UiContextValue } from '../use-ui.js';

/**
 * What `respaldo status` says of the health as rows folded to `width` (pure): healthy or how many problems; per
 * database its newest set and age against the schedule (overdue said), its last drill, its 30 days of runs, how its
 * last restore ended and its problems; per destination the newest set there and what is not copied; the roles
 * killed `restore --create-roles` runs left; the backup folder's problems (the alerts send the same problems).
 */
export function healthRows(
  h: MenuHealth,
  ui: Pick<UiContextValue, 't' | 'theme' | 'lang'>,
  width: number,
  now: Date,
): Row[] {
  const { t, theme, lang } = ui;
  const x = t.health;
  const rows: Row[] = [];
  const line = (text: string, style: { bold?: boolean; color?: string | undefined } = {}, indent = '    '): void =>
    void rows.push(...foldText(text, width, style, indent));
  const ago = (at: string): string => t.time.ago(formatAge(now.getTime() - new Date(at).getTime()));
  const problem = (i: MenuHealth['report']['issues'][number]): string => say(lang, i.phrase, i.text, theme.unicode);
  const r = h.report;
  if (r.healthy) line(x.healthy(r.databases.length), { bold: true, color: theme.colors.ok }, '  ');
  else line(x.problems(r.issues.length), { bold: true, color: theme.colors.error }, '  ');
  for (const d of r.databases) {
    rows.push([]);
    line(d.database, { bold: true });
    const newest = h.newest.find((n) => n.database === d.database);
    const set = newest?.setId
      ? `${newest.setId}${newest.type && newest.type !== 'full' ? ` (${t.common.setType[newest.type] ?? newest.type})` : ''}`
      : x.none;
    const age = d.lastSuccessAt ? ` · ${ago(d.lastSuccessAt)}` : '';
    const promise = d.promisedEverySeconds ? x.every(formatAge(d.promisedEverySeconds * 1000)) : x.noSchedule;
    line(`  ${x.newest}: ${set}${age} · ${promise}`);
    if (d.overdue && d.missedRunAt) line(`  ${x.overdue(formatDate(d.missedRunAt))}`, { color: theme.colors.error });
    const drill = d.lastDrill;
    if (!drill) line(`  ${x.drill}: ${x.drillNever}`, { color: theme.colors.muted });
    else if (drill.ok) line(`  ${x.drill}: ${x.drillOk(ago(drill.at), drill.setId)}`, { color: theme.colors.ok });
    else line(`  ${x.drill}: ${x.drillBad(ago(drill.at), drill.setId)}`, { color: theme.colors.error });
    if (d.attempts30d) line(`  ${x.runs(d.successes30d, d.attempts30d)}`, { color: theme.colors.muted });
    // How its last restore ended (a dropped SSH session saw nothing of it), as status says it
    const restore = h.lastRestores.find((l) => l.database === d.database);
    if (restore) {
      const color = restore.outcome === 'completed' || restore.outcome === 'running' ? undefined : theme.colors.error;
      line(`  ${x.lastRestore}: ${say(lang, restore.said, restore.saidEn, theme.unicode)}`, { color });
    }
    for (const i of r.issues.filter((y) => y.database === d.database && y.code !== 'overdue'))
      line(`  ${problem(i)}`, { color: theme.colors.error });
  }
  rows.push([]);
  line(x.offsite, { bold: true });
  if (!h.offsite.length) line(`  ${x.offsiteNone}`, { color: theme.colors.muted });
  for (const o of h.offsite) {
    const newest = o.newestCopied ? `${o.newestCopied.setId} (${ago(o.newestCopied.at)})` : x.noneFromHere;
    const missing = o.copyAfterBackup ? o.notCopied.length : 0;
    line(`  ${x.offsiteLine(o.destination, newest, missing)}`, missing ? { color: theme.colors.error } : {});
    const e = o.lastError;
    if (e) line(`  ${x.offsiteError(o.destination, e.setId, ago(e.at), e.error)}`, { color: theme.colors.error });
  }
  // Roles killed `restore --create-roles` runs made: on their servers, maybe with nothing using them (status says them)
  if (h.createdRoles.length) {
    rows.push([]);
    line(x.roles, { bold: true });
    for (const r of h.createdRoles) {
      const roles = r.roles.map((n) => JSON.stringify(n)).join(', ');
      line(`  ${x.rolesLine(r.database, roles, r.server, r.setId, formatDate(r.at))}`, { color: theme.colors.error });
      line(`    ${x.rolesDrop(r.dropSql)}`, { color: theme.colors.muted }, '      ');
    }
  }
  rows.push([]);
  line(x.general, { bold: true });
  if (r.freeBytes !== null) line(`  ${x.free(formatBytes(r.freeBytes), formatBytes(r.minFreeBytes))}`);
  for (const i of r.issues.filter((y) => y.database === null)) line(`  ${problem(i)}`, { color: theme.colors.error });
  rows.push([]);
  line(x.readAt(formatDate(r.at)), { color: theme.colors.muted }, '  ');
  return rows;
}

/**
 * Option 6: the health of the backups, as `respaldo status` says it, scrollable; read only (r reads it again, Esc
 * goes back). Keys typed while it is read wait for it (Esc leaves at once).
 */
export function HealthScreen({ onBack }: { onBack: () => void }) {
  const ui = useUi();
  const { t, facade, now } = ui;
  const { columns } = useScreenSize();
  const body = useBodyRows();
  const [health, reload] = useLoad(() => facade.health(), []);
  const [top, setTop] = useState(0);
  useHeldKeys(health.state === 'loading', (_, key) => key.escape);
  const rows = health.state === 'done' ? healthRows(health.value, ui, columns, now()) : [];
  const help = t.help.health;
  const height = Math.max(3, body - (helpRows(help, columns) - 1));
  const { maxTop } = scrollWindow(rows.length, height, top);
  const page = Math.max(1, height - 1);
  useKeys((input, key) => {
    if (isCtrlC(input, key)) return;
    if (key.escape) return onBack();
    if (input === 'r') return reload();
    if (isUp(input, key)) return setTop((x) => Math.max(0, Math.min(maxTop, x) - 1));
    if (isDown(input, key)) return setTop((x) => Math.min(maxTop, x + 1));
    if (key.pageUp) return setTop((x) => Math.max(0, Math.min(maxTop, x) - page));
    if (key.pageDown) return setTop((x) => Math.min(maxTop, x + page));
    if (key.home) return setTop(0);
    if (key.end) return setTop(maxTop);
  });
  return (
    <Screen title={t.health.title} help={help}>
      {health.state === 'loading' ? <Text>{t.health.reading}</Text> : null}
      {health.state === 'error' ? <ErrorBox error={health.error} /> : null}
      {health.state === 'done' ? <ScrollRows rows={rows} height={height} top={top} /> : null}
    </Screen>
  );
}
