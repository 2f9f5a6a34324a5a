import { english, type Phrase } from '../core/phrases.js';
import type { ErrorPhrases, NotificationConfig, NotifyEventKind, NotifyLanguage } from '../core/types.js';
// The phrases' Spanish (a table of plain functions, shared with the menu; nothing of Ink or React).
import { say, sayMessage } from '../ui/i18n/index.js';

/**
 * What happened, for a notification: the operation, the set, each database's outcome, the error and
 * its hint. Built by the engine and the scheduler; never holds a secret (every text is masked again
 * before it leaves, see notify.ts).
 */
export interface NotifyEvent {
  kind: NotifyEventKind;
  /** `create`, `scheduler`, `test`, …: what the operator would call it. */
  operation: string;
  host: string;
  at: Date;
  setId?: string;
  job?: string | null;
  /** `phrases`: the error's (RespaldoError.phrases), so a message in Spanish says it in Spanish. */
  databases?: { name: string; ok: boolean; error?: string; hint?: string; phrases?: ErrorPhrases }[];
  /** Files that could not be stored (partial sets). */
  fileProblems?: number;
  /** What went wrong with the files, a line each (the first few): which file, and why. */
  fileNotes?: string[];
  /** Off-site copies of the set that failed (the backup itself is kept locally). */
  notCopied?: { destination: string; error: string; phrases?: ErrorPhrases }[];
  error?: { message: string; hint?: string; phrases?: ErrorPhrases };
  /** drill-failure only: the drill did not run, the key to decrypt the set is missing or wrong (the set is not bad). */
  keyProblem?: boolean;
  /** drill-failure only: the drill could not run at all (no set to drill, no room); the sets were not found bad. */
  drillNotRun?: boolean;
  /** Sentences of kinds that carry their own details (overdue, unhealthy: health problems), said in the language. */
  details?: Phrase[];
}

/** A message ready for any channel: a one-line subject and plain-text lines. */
export interface NotifyMessage {
  subject: string;
  lines: string[];
  /** Overall state, for channels that colour it (Slack, Teams). */
  severity: 'ok' | 'warning' | 'error';
}

const SEVERITY: Record<NotifyEventKind, NotifyMessage['severity']> = {
  success: 'ok',
  partial: 'warning',
  overdue: 'warning',
  unhealthy: 'warning',
  failure: 'error',
  'drill-failure': 'error',
  test: 'ok',
};

const TEXT = {
  en: {
    title: {
      success: 'backup succeeded',
      partial: 'backup partial: some databases, files or off-site copies were not saved',
      failure: 'backup FAILED',
      overdue: 'backup overdue',
      unhealthy: 'backups unhealthy',
      'drill-failure': 'restore drill FAILED',
      test: 'test message',
    } satisfies Record<NotifyEventKind, string>,
    host: 'Host',
    when: 'When',
    operation: 'Operation',
    set: 'Backup set',
    job: 'Scheduled job',
    ok: 'saved',
    failed: 'FAILED',
    error: 'Error',
    hint: 'What to do',
    files: (n: number) => `${n} file(s) could not be stored`,
    notCopied: (dest: string, error: string) =>
      `NOT copied to ${dest}: ${error} (kept here; \`respaldo copy\` sends it, the next backup too)`,
    passed: 'passed',
    keyProblem: 'restore drill NOT RUN: the key to decrypt the backups is missing or wrong',
    drillNotRun: 'restore drill NOT RUN (the backups were not checked)',
    test: 'respaldo can reach this channel. No action is needed.',
  },
  es: {
    title: {
      success: 'copia de seguridad correcta',
      partial:
        'copia de seguridad parcial: algunas bases de datos, archivos o copias fuera del servidor no se guardaron',
      failure: 'la copia de seguridad FALLÓ',
      overdue: 'copia de seguridad atrasada',
      unhealthy: 'copias de seguridad en mal estado',
      'drill-failure': 'el simulacro de restauración FALLÓ',
      test: 'mensaje de prueba',
    } satisfies Record<NotifyEventKind, string>,
    host: 'Servidor',
    when: 'Cuándo',
    operation: 'Operación',
    set: 'Conjunto',
    job: 'Tarea programada',
    ok: 'guardada',
    failed: 'FALLÓ',
    error: 'Error',
    hint: 'Qué hacer',
    files: (n: number) => `${n} archivo(s) no se pudieron guardar`,
    notCopied: (dest: string, error: string) =>
      `NO se envió a ${dest}: ${error} (se conserva aquí; \`respaldo copy\` la envía, y también la próxima copia)`,
    passed: 'correcto',
    keyProblem: 'el simulacro de restauración NO SE HIZO: falta la clave para descifrar las copias o es incorrecta',
    drillNotRun: 'el simulacro de restauración NO SE HIZO (las copias no se comprobaron)',
    test: 'respaldo puede enviar mensajes a este canal. No hace falta hacer nada.',
  },
} as const;

/** The operations events name, in Spanish (commands typed, such as `create`, stay as they are). */
const OPERATIONS_ES: Record<string, string> = {
  'health check': 'comprobación de salud',
  'scheduled backup': 'copia programada',
  'scheduled drill': 'simulacro programado',
  scheduler: 'programador',
  drill: 'simulacro',
  menu: 'menú',
};

/** Pure: the message for an event in the operator's language. */
export function buildMessage(event: NotifyEvent, language: NotifyLanguage): NotifyMessage {
  const t = TEXT[language];
  const lines: string[] = [];
  if (event.kind === 'test') lines.push(t.test);
  lines.push(`${t.host}: ${event.host}`);
  lines.push(`${t.when}: ${localTime(event.at)}`);
  lines.push(
    `${t.operation}: ${language === 'es' ? (OPERATIONS_ES[event.operation] ?? event.operation) : event.operation}`,
  );
  if (event.setId) lines.push(`${t.set}: ${event.setId}`);
  if (event.job) lines.push(`${t.job}: ${event.job}`);
  const ok = event.kind === 'drill-failure' ? t.passed : t.ok; // a drill restores nothing it keeps
  for (const d of event.databases ?? []) {
    const error = d.error ? sayMessage(language, d.phrases, d.error) : '';
    lines.push(`- ${d.name}: ${d.ok ? ok : t.failed}${error ? ` (${error})` : ''}`);
    if (d.hint) lines.push(`  ${t.hint}: ${say(language, d.phrases?.hint, d.hint)}`);
  }
  if (event.fileProblems) lines.push(`- ${t.files(event.fileProblems)}`);
  for (const n of event.fileNotes ?? []) lines.push(`  ${n}`);
  for (const c of event.notCopied ?? [])
    lines.push(`- ${t.notCopied(c.destination, sayMessage(language, c.phrases, c.error))}`);
  if (event.error) {
    const e = event.error;
    lines.push(`${t.error}: ${sayMessage(language, e.phrases, e.message)}`);
    if (e.hint) lines.push(`${t.hint}: ${say(language, e.phrases?.hint, e.hint)}`);
  }
  for (const d of event.details ?? []) lines.push(`- ${language === 'es' ? say('es', d, english(d)) : english(d)}`);
  const notRun =
    event.kind === 'drill-failure' && (event.keyProblem ? t.keyProblem : event.drillNotRun && t.drillNotRun);
  const title = notRun || t.title[event.kind];
  const subject = `[respaldo] ${event.host}: ${title}${event.setId ? ` (${event.setId})` : ''}`;
  return { subject, lines, severity: SEVERITY[event.kind] };
}

/** Pure: whether a channel takes an event (`test` goes to every channel). */
export function wants(channel: Pick<NotificationConfig, 'on'>, kind: NotifyEventKind): boolean {
  return kind === 'test' || channel.on.includes(kind);
}

function localTime(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const tz = `${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())} (UTC${tz})`;
}
