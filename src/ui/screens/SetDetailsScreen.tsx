import { useEffect, useState } from 'react';
import { Box, Text } from 'ink';
import type { DrillRecord, DrillResult, Manifest, SetSummary } from '../../core/types.js';
import type { Phrase } from '../../core/phrases.js';
import { silentReporter } from '../../core/events.js';
import { printable, printedName, wrapWords } from '../../core/format.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { drillCheckText } from './DrillScreen.js';
import { Screen } from '../components/Screen.js';
import { TypedConfirm, typedConfirmRows } from '../components/TypedConfirm.js';
import type { KeyLock, OffsiteMark, SetDetails, VerifyReport } from '../engine-facade.js';
import { PassphrasePrompt } from '../components/PassphrasePrompt.js';
import { formatAge, formatBytes, formatDate, formatDuration } from '../format.js';
import { statusColor } from '../theme.js';
import { useLoad } from '../use-async.js';
import { isCtrlC, isDown, isUp, useHeldKeys, useKeys } from '../use-keys.js';
import { helpRows, useBodyRows, useScreenSize } from '../use-screen-size.js';
import { useUi, type UiContextValue } from '../use-ui.js';
import { say, sayMessage, sayVerifyProblem } from '../i18n/index.js';
import { useDeletePrompt } from '../use-delete-prompt.js';

/*
 * Why one file of about 490 lines: the details' lines (drills, verifications, chains, copies) are made here
 * from the same set and shown by the one screen below, whose keys act on that set; the delete prompt and the
 * passphrase are their own modules already.
 */

export interface Line {
  text: string;
  color?: string | undefined;
  bold?: boolean;
}

/** A drill's outcome of one database (or of the files) as lines under it: when, checks, duration, error and hint. */
function drillLines(r: DrillResult, ui: Pick<UiContextValue, 't' | 'theme' | 'lang'>, now: Date): Line[] {
  const { t, theme } = ui;
  const ago = t.time.ago(formatAge(now.getTime() - new Date(r.at).getTime()));
  const took = formatDuration(r.durationMs);
  if (r.ok) {
    const passed = r.checks.filter((c) => c.ok && !c.skipped).length;
    return [{ text: `    ${t.details.drillOk(ago, passed, took)}`, color: theme.colors.ok }];
  }
  const out: Line[] = [{ text: `    ${t.details.drillBad(ago, took)}`, color: theme.colors.error, bold: true }];
  for (const c of r.checks.filter((x) => !x.ok))
    out.push({ text: `      ${drillCheckText(c, ui)}`, color: theme.colors.error });
  if (r.error && !r.checks.some((c) => !c.ok && c.detail && r.error?.includes(c.detail)))
    out.push({ text: `      ${sayMessage(ui.lang, r.phrases, r.error, theme.unicode)}`, color: theme.colors.error });
  if (r.hint) out.push({ text: `      ${t.common.hint}: ${say(ui.lang, r.phrases?.hint, r.hint, theme.unicode)}` });
  return out;
}

/** The one line a verification ends with: OK, files that do not match, or files that match in a broken chain. */
export function verifyText(r: VerifyReport, t: UiContextValue['t']): string {
  if (!r.ok) return t.details.verifyBad(r.files.filter((f) => !f.ok && !f.nextBackupOf).length);
  // `files` holds only the files that failed, `checked` counts them all (both the same where it is absent)
  const checked = r.checked ?? r.files.length;
  const matched = checked - r.files.filter((f) => !f.ok).length;
  if (r.chainProblems?.length) return t.details.verifyChainBroken(matched);
  return matched < checked ? t.details.verifyOkWarned(matched, checked - matched) : t.details.verifyOk(matched);
}

/** What breaks a set's chain (`chainProblems`, said by their phrases), in the menu's language. */
export function chainProblemWords(
  lang: UiContextValue['lang'],
  r: { chainProblems?: string[]; chainProblemPhrases?: Phrase[] },
  unicode: boolean,
): string[] {
  return (r.chainProblems ?? []).map((text, i) => say(lang, r.chainProblemPhrases?.[i], text, unicode));
}

/**
 * The details of a set as lines (pure): every stored file with size, md5, sha256, row counts, errors (`filesOf`: the
 * set's files when `m.files` holds only the first of them, readSetDetails: then a summary, those first paths one a
 * line, how many more and the command that lists them all, and the files found damaged among the others),
 * the last verification recorded beside it (`verified`, from the list; undefined while it is read) and the last
 * restore drill (`drills`; undefined while it is read) of the set and of each database.
 */
export function manifestLines(
  m: Manifest,
  ui: Pick<UiContextValue, 't' | 'theme' | 'lang'>,
  verify: VerifyReport | null,
  keep: boolean | null = null,
  offsite: OffsiteMark[] | null = null,
  drills?: DrillRecord | null,
  now: Date = new Date(),
  listedChain: readonly string[] = [],
  verified?: SetSummary['lastVerified'],
  filesOf?: SetDetails['files'],
): Line[] {
  const { t, theme, lang } = ui;
  const d = t.details;
  const bad = new Map(
    (verify?.files ?? [])
      .filter((f) => !f.ok && !f.nextBackupOf)
      .map((f) => [f.path, f.problem ? sayVerifyProblem(lang, f.problem, theme.unicode) : t.common.status.failed]),
  );
  // Files the recorded verification found damaged, which a verify on this screen has not checked again
  if (!verify) for (const f of verified?.damaged ?? []) bad.set(f, d.damagedFile);
  const damaged = verify ? !verify.ok : verified?.ok === false;
  // Missing or damaged, but no restore reads them (SQLite's page map): the verification's warnings, in order
  const spare = new Map(
    (verify?.files ?? [])
      .filter((f) => !f.ok && f.nextBackupOf)
      .map((f, i) => {
        const w = verify?.warningPhrases?.[i];
        // Its problem (`missing`) in the menu's language too
        const problem = f.problem ? sayVerifyProblem(lang, f.problem, theme.unicode) : '';
        const said = w ? { ...w, params: { ...w.params, problem } } : undefined;
        return [f.path, say(lang, said, verify?.warnings?.[i] ?? '', theme.unicode)];
      }),
  );
  const out: Line[] = [];
  const kv = (k: string, v: string, color?: string): void => void out.push({ text: `${k.padEnd(12)} ${v}`, color });
  kv(d.type, t.common.setType[m.type] ?? m.type);
  // Its own files matching is not a set that restores: what its chain lacks, as `respaldo verify ID` and `list` say
  // (`listedChain`: what the list found before any verify here)
  const chain = verify?.chainProblems ? chainProblemWords(lang, verify, theme.unicode) : listedChain;
  if (damaged) kv(d.status, t.list.damagedStatus, theme.colors.error);
  else if (chain.length) kv(d.status, t.list.broken, theme.colors.error);
  else kv(d.status, t.common.status[m.status], statusColor(theme, m.status));
  if (verified !== undefined) out.push(...verifiedLines(verified, bad, ui, now));
  for (const problem of chain) kv(d.chain, d.chainBroken(problem), theme.colors.error);
  if (chain.length) out.push({ text: `${''.padEnd(13)}${d.chainCheck(m.id)}` });
  kv(d.started, formatDate(m.startedAt));
  kv(d.duration, formatDuration(new Date(m.completedAt).getTime() - new Date(m.startedAt).getTime()));
  if (m.description) kv(d.description, printable(m.description));
  if (m.job) kv(d.job, m.job);
  if (m.restoreOf) kv(d.restoreOf, m.restoreOf);
  if (keep !== null) kv(d.keep, keep ? d.keepYes : d.keepNo, keep ? theme.colors.ok : undefined);
  if (offsite?.length) {
    const missing = offsite.filter((o) => !o.ok);
    const where = [d.offsiteLocal, ...offsite.filter((o) => o.ok).map((o) => d.offsiteOk(o.destination))];
    kv(d.offsite, where.join(` ${theme.glyphs.dot} `), missing.length ? undefined : theme.colors.ok);
    for (const o of missing) {
      const text = o.removedAt
        ? d.offsiteRemoved(o.destination, formatDate(o.removedAt))
        : o.error
          ? d.offsiteError(o.destination, say(lang, o.errorPhrase, o.error, theme.unicode))
          : d.offsiteMissing(o.destination);
      out.push({ text: `${''.padEnd(13)}${text}`, color: theme.colors.error, bold: true });
    }
    for (const o of offsite.filter((x) => x.ok && x.lastFailure)) {
      const f = o.lastFailure!;
      const text = d.offsiteLastFailed(
        o.destination,
        formatDate(f.at),
        say(lang, f.errorPhrase, f.error, theme.unicode),
      );
      out.push({ text: `${''.padEnd(13)}${text}`, color: theme.colors.warn });
    }
    // The marks beside the set say what respaldo itself did; the destination is not asked (it may have changed).
    out.push({ text: `${''.padEnd(13)}${d.offsiteAsRecorded}`, color: theme.colors.muted });
  }
  if (drills !== undefined) {
    const results = Object.values(drills?.results ?? {});
    if (!results.length) kv(d.drilled, d.drillNever, theme.colors.muted);
    else {
      const at = results
        .map((r) => r.at)
        .sort()
        .at(-1)!;
      const ago = t.time.ago(formatAge(now.getTime() - new Date(at).getTime()));
      const failed = results.filter((r) => !r.ok).map((r) => r.database);
      if (failed.length) kv(d.drilled, d.drilledBad(ago, failed), theme.colors.error);
      else kv(d.drilled, d.drilledOk(ago), theme.colors.ok);
    }
  }
  kv(d.host, m.host);
  kv(d.totals, d.totalsLine(formatBytes(m.totals.storedBytes), formatBytes(m.totals.rawBytes), m.totals.files));
  out.push({ text: '' }, { text: d.databases, bold: true });
  for (const db of m.databases) {
    if (db.error) {
      out.push({
        text: `  ${db.name} (${db.engine}) ${t.common.status.failed}: ${db.error.message}`,
        color: theme.colors.error,
        bold: true,
      });
      if (db.error.hint) out.push({ text: `    ${t.common.hint}: ${db.error.hint}` });
      continue;
    }
    out.push({ text: `  ${db.name} (${db.engine}, ${db.format})`, bold: true });
    if (Array.isArray(db.details['integrityCheck']))
      out.push({ text: `    ${d.keptDamaged}`, color: theme.colors.error });
    const files = [
      { file: db.file, storedBytes: db.storedBytes, rawBytes: db.rawBytes, md5: db.md5, sha256: db.sha256 },
      ...(db.extras ?? []),
    ];
    for (const f of files) {
      if (!f.file) continue;
      const problem = bad.get(f.file);
      const warned = spare.get(f.file);
      out.push({
        text: `    ${d.file} ${f.file}  ${formatBytes(f.storedBytes)} (${formatBytes(f.rawBytes)})${problem ? `  ${t.common.status.failed}: ${problem}` : ''}`,
        color: problem ? theme.colors.error : warned ? theme.colors.warn : undefined,
      });
      if (warned) out.push({ text: `    ${t.details.warning}: ${warned}`, color: theme.colors.warn });
      out.push({ text: `    ${d.md5}    ${f.md5 ?? '-'}`, color: theme.colors.muted });
      out.push({ text: `    ${d.sha256} ${f.sha256 ?? '-'}`, color: theme.colors.muted });
    }
    if (db.tables) {
      const entries = Object.entries(db.tables);
      out.push({
        text: `    ${d.rows} (${d.tables(entries.length)}): ${entries.map(([k, v]) => `${k} ${v}`).join(', ')}`,
      });
    }
    if (db.safetyDatabase) out.push({ text: `    ${db.safetyDatabase}` });
    const drilled = drills?.results[db.name];
    if (drilled) out.push(...drillLines(drilled, ui, now));
  }
  out.push({ text: '' }, { text: d.files, bold: true });
  if (m.files.length === 0) out.push({ text: `  ${d.noFiles}`, color: theme.colors.muted });
  const filesDrill = drills?.results['files'];
  if (filesDrill) out.push(...drillLines(filesDrill, ui, now).map((l) => ({ ...l, text: l.text.slice(2) })));
  // A set of more files than the details hold: what they are in all, the first ones a line each, then how to see all
  const summary = filesOf !== undefined && filesOf.count > m.files.length;
  if (summary) {
    const groups = filesOf.groups.map((g) => d.group[g] ?? g).join(', ');
    out.push({ text: `  ${d.filesSummary(filesOf.count, formatBytes(filesOf.bytes), groups)}` });
    out.push({ text: `  ${d.filesFirst(m.files.length)}`, color: theme.colors.muted });
  }
  const shown = new Set<string>();
  for (const f of m.files) {
    const problem = f.stored ? bad.get(f.stored) : undefined;
    if (f.stored) shown.add(f.stored);
    const what = f.kind === 'symlink' ? `-> ${printedName(f.linkTarget ?? '')}` : formatBytes(f.size);
    out.push({
      text: `  [${d.group[f.group] ?? f.group}] ${printedName(f.relative)}  ${what}${problem ? `  ${t.common.status.failed}: ${problem}` : ''}`,
      color: problem ? theme.colors.error : undefined,
    });
    if (summary) continue;
    if (f.md5) out.push({ text: `    ${d.md5}    ${f.md5}`, color: theme.colors.muted });
    if (f.sha256) out.push({ text: `    ${d.sha256} ${f.sha256}`, color: theme.colors.muted });
  }
  if (summary) {
    out.push({ text: `  ${d.filesMore(filesOf.count - m.files.length, m.id)}`, color: theme.colors.muted });
    // The stored files a verify here found damaged that are not among those shown (as many at most)
    const databaseFiles = new Set(
      m.databases.flatMap((db) => [db.file, ...(db.extras ?? []).map((x) => x.file)].filter(Boolean)),
    );
    // (the verification recorded before names its own under Verified)
    const others = verify ? [...bad].filter(([path]) => !shown.has(path) && !databaseFiles.has(path)) : [];
    for (const [path, problem] of others.slice(0, m.files.length))
      out.push({ text: `  ${printedName(path)}  ${t.common.status.failed}: ${problem}`, color: theme.colors.error });
    if (others.length > m.files.length)
      out.push({ text: `  ${d.filesDamagedMore(others.length - m.files.length)}`, color: theme.colors.error });
  }
  if (m.warnings.length) {
    out.push({ text: '' }, { text: d.warnings, bold: true });
    for (const w of m.warnings) out.push({ text: `  ${w}`, color: theme.colors.warn });
  }
  return out;
}

/** The Verified line of the details: the last verification recorded, the files it found damaged, what to do. */
function verifiedLines(
  v: SetSummary['lastVerified'],
  bad: ReadonlyMap<string, string>,
  ui: Pick<UiContextValue, 't' | 'theme'>,
  now: Date,
): Line[] {
  const { t, theme } = ui;
  const d = t.details;
  const kv = (text: string, color?: string, bold?: boolean): Line => ({
    text: `${d.verified.padEnd(12)} ${text}`,
    color,
    ...(bold ? { bold } : {}),
  });
  if (!v) return [kv(d.verifiedNever, theme.colors.muted)];
  const ago = t.time.ago(formatAge(now.getTime() - new Date(v.at).getTime()));
  if (v.ok) return [kv(d.verifiedOk(formatDate(v.at), ago), theme.colors.ok)];
  const files = v.damaged ?? [];
  return [
    kv(d.verifiedBad(formatDate(v.at), ago, files.length), theme.colors.error, true),
    ...files.map((f) => ({ text: `${''.padEnd(13)}${f}: ${bad.get(f) ?? d.damagedFile}`, color: theme.colors.error })),
    { text: `${''.padEnd(13)}${d.damagedDo}` },
  ];
}

type Action =
  | { name: 'none' }
  | { name: 'busy'; text: string }
  | { name: 'verified'; result: VerifyReport; readData: boolean }
  | { name: 'passphrase'; lock: KeyLock }
  | { name: 'kept'; keep: boolean }
  | { name: 'confirm-delete' }
  | { name: 'error'; error: unknown };

/**
 * Details of one set, scrollable; v verify now (V also decrypts an encrypted set's data and checks it,
 * asking the key's passphrase when it is protected), t restore drill of the set (its own screen), p keep
 * (protect from prune) or not, r restore from it, d delete it (typed word), Esc back.
 */
export function SetDetailsScreen({
  id,
  onBack,
  onRestore,
  onDeleted,
  onDrill,
}: {
  id: string;
  onBack: () => void;
  onRestore: (id: string) => void;
  onDeleted: () => void;
  onDrill?: (id: string) => void;
}) {
  const ui = useUi();
  const { t, theme, facade, now } = ui;
  const body = useBodyRows();
  const { columns } = useScreenSize();
  // Lean: the first files and what they all are, not every entry (a set of 100 000 files took a minute so).
  const [details] = useLoad(() => facade.readSetDetails(id), [id]);
  const manifest = details.state === 'done' ? { state: 'done' as const, value: details.value.manifest } : details;
  const [drillRecord] = useLoad(() => facade.readDrills(id), [id]);
  const drills = drillRecord.state === 'done' ? drillRecord.value : drillRecord.state === 'error' ? null : undefined;
  const [keep, setKeepState] = useState<boolean | null>(null);
  const [listedChain, setListedChain] = useState<string[]>([]);
  const [verified, setVerified] = useState<SetSummary['lastVerified'] | undefined>(undefined);
  // What the list says of the set; read again after a verify here, which records its outcome beside the set.
  const readListed = (): void =>
    void facade.listSets().then(
      (sets) => {
        const set = sets.find((s) => s.id === id);
        setKeepState(set?.keep ?? null);
        setListedChain(set ? chainProblemWords(ui.lang, set, theme.unicode) : []);
        setVerified(set ? set.lastVerified : undefined);
      },
      () => setKeepState(null),
    );
  useEffect(readListed, [id]);
  const [offsite, setOffsite] = useState<OffsiteMark[] | null>(null);
  useEffect(() => {
    facade.offsite(id).then(setOffsite, () => setOffsite(null));
  }, [id]);
  const [top, setTop] = useState(0);
  const [action, setAction] = useState<Action>({ name: 'none' });
  const verify = action.name === 'verified' ? action.result : null;
  const filesOf = details.state === 'done' ? details.value.files : undefined;
  // Folded to the screen's width, continuations indented under their line: an error or its hint is read whole
  // (it was cut at the edge, with nothing to show the rest).
  const lines = (
    manifest.state === 'done'
      ? manifestLines(manifest.value, ui, verify, keep, offsite, drills, now(), listedChain, verified, filesOf)
      : []
  ).flatMap((l) => wrapWords(l.text, columns, `${/^ */.exec(l.text)![0]}  `).map((text) => ({ ...l, text })));
  const deletePrompt = useDeletePrompt(action.name === 'confirm-delete' ? id : null);
  const dataRead = action.name === 'verified' && action.readData && action.result.decrypted === true;
  // The line a verification ends with, folded to the width (a warning makes it longer)
  const verifiedLines = action.name === 'verified' ? wrapWords(verifyText(action.result, t), columns, '') : [];
  const actionRows =
    action.name === 'error' ? 5 : action.name === 'none' ? 0 : Math.max(1, verifiedLines.length) + (dataRead ? 1 : 0);
  const help = action.name === 'confirm-delete' ? t.help.confirm : t.help.details;
  // The question leaves the set's details three lines at least.
  const fit = {
    maxRows: Math.max(4, body - 1 - 3 - (helpRows(help, columns) - 1)),
    ask: t.restore.typeWord(t.deleteWord),
    more: t.common.moreLines,
  };
  const below = action.name === 'confirm-delete' ? typedConfirmRows(deletePrompt, columns, fit) : actionRows;
  const height = Math.max(3, body - 1 - below - (helpRows(help, columns) - 1));
  const maxTop = Math.max(0, lines.length - height);

  // Keys typed while a verification, a keep mark, a delete or the key's check runs wait for what it leads to (the
  // outcome, the passphrase asked, the list); when it fails, they are dropped before the error shows.
  const failed = useHeldKeys(action.name === 'busy');
  const runVerify = async (readData = false): Promise<void> => {
    setAction({ name: 'busy', text: t.details.verifying });
    try {
      const result = await facade.verifySet(id, silentReporter, readData ? { readData } : {});
      setAction({ name: 'verified', result, readData });
      readListed();
    } catch (error) {
      failed(() => setAction({ name: 'error', error }));
    }
  };
  /**
   * V: verify reading the data; an encrypted set with a protected key, or encrypted to a passphrase no
   * file gives, asks that passphrase first (the passphrase typed ahead waits for its prompt).
   */
  const verifyReadingData = async (encrypted: boolean): Promise<void> => {
    if (encrypted) setAction({ name: 'busy', text: t.details.verifying });
    const lock = encrypted ? await facade.keyLocked({ setId: id }).catch(() => null) : null;
    if (lock) return setAction({ name: 'passphrase', lock });
    return runVerify(true);
  };
  const toggleKeep = async (): Promise<void> => {
    const next = !keep;
    setAction({ name: 'busy', text: t.common.loading });
    try {
      await facade.setKeep(id, next);
      setKeepState(next);
      setAction({ name: 'kept', keep: next });
    } catch (error) {
      // The local mark may stand though a destination failed: what is shown is read again.
      facade.listSets().then(
        (sets) => setKeepState(sets.find((s) => s.id === id)?.keep ?? null),
        () => undefined,
      );
      failed(() => setAction({ name: 'error', error }));
    }
  };
  const remove = async (): Promise<void> => {
    setAction({ name: 'busy', text: t.details.deleting });
    try {
      await facade.deleteSet(id);
      onDeleted();
    } catch (error) {
      failed(() => setAction({ name: 'error', error }));
    }
  };

  useKeys((input, key) => {
    if (isCtrlC(input, key) || action.name === 'busy' || action.name === 'passphrase') return;
    if (key.escape) {
      if (action.name === 'error') return setAction({ name: 'none' });
      return onBack();
    }
    if (isUp(input, key)) return setTop((x) => Math.max(0, x - 1));
    if (isDown(input, key)) return setTop((x) => Math.min(maxTop, x + 1));
    if (key.pageUp) return setTop((x) => Math.max(0, x - height));
    if (key.pageDown) return setTop((x) => Math.min(maxTop, x + height));
    if (key.home) return setTop(0);
    if (key.end) return setTop(maxTop);
    if (manifest.state !== 'done') return;
    if (input === 'v') return void runVerify();
    if (input === 'V') return void verifyReadingData(Boolean(manifest.value.encryption));
    if (input === 'p' && keep !== null) return void toggleKeep();
    if (input === 'r') return onRestore(manifest.value.id);
    if (input === 't' && onDrill) return onDrill(manifest.value.id);
    if (input === 'd') return setAction({ name: 'confirm-delete' });
  }, action.name !== 'confirm-delete');

  const shownTop = Math.min(top, maxTop);
  const footer = (
    <>
      {action.name === 'busy' ? <Text>{action.text}</Text> : null}
      {action.name === 'verified' ? (
        <Text bold color={action.result.ok && !action.result.chainProblems ? theme.colors.ok : theme.colors.error}>
          {verifiedLines.join('\n')}
        </Text>
      ) : null}
      {dataRead ? <Text color={theme.colors.muted}>{t.details.dataRead}</Text> : null}
      {action.name === 'kept' ? (
        <Text color={theme.colors.ok}>{action.keep ? t.details.kept : t.details.unkept}</Text>
      ) : null}
      {action.name === 'error' ? <ErrorBox error={action.error} /> : null}
      {action.name === 'confirm-delete' ? (
        <TypedConfirm
          word={t.deleteWord}
          prompt={deletePrompt}
          maxRows={fit.maxRows}
          onCancel={() => setAction({ name: 'none' })}
          onConfirm={() => void remove()}
        />
      ) : null}
    </>
  );
  if (action.name === 'passphrase')
    return (
      <PassphrasePrompt
        titlePrefix={t.details.title(id)}
        lock={action.lock}
        of={{ setId: id }}
        onUnlocked={() => void runVerify(true)}
        onCancel={() => setAction({ name: 'none' })}
      />
    );
  return (
    <Screen title={t.details.title(manifest.state === 'done' ? manifest.value.id : id)} help={help} footer={footer}>
      {manifest.state === 'loading' ? <Text>{t.common.loading}</Text> : null}
      {manifest.state === 'error' ? <ErrorBox error={manifest.error} /> : null}
      <Box flexDirection="column">
        {lines.slice(shownTop, shownTop + height).map((l, i) => (
          <Text key={shownTop + i} color={l.color} bold={l.bold} wrap="truncate-end">
            {l.text || ' '}
          </Text>
        ))}
        {lines.length > height ? (
          <Text color={theme.colors.muted}>
            {shownTop > 0 ? theme.glyphs.arrowUp : ' '}
            {shownTop < maxTop ? theme.glyphs.arrowDown : ' '}{' '}
            {t.list.rows(shownTop + 1, Math.min(lines.length, shownTop + height), lines.length)}
          </Text>
        ) : null}
      </Box>
    </Screen>
  );
}
