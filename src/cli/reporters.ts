import type { ProgressEvent, Reporter } from '../core/events.js';
import { printable, printableLines } from '../core/format.js';
import { foldLine, formatBytes, formatDuration } from './format.js';

/**
 * Human progress on stderr. On a TTY: a live line per item with bytes and rate, and a line when an
 * item ends. When piped: only warnings and failures (the summary goes to stdout from the command).
 */
export class TextReporter implements Reporter {
  private readonly started = new Map<string, number>();
  private live = false;
  /** `mask`: what every line goes through before it is written (the config's secrets as ***). */
  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly tty = Boolean(process.stderr.isTTY),
    private readonly mask: (text: string) => string = (text) => text,
  ) {}

  emit(e: ProgressEvent): void {
    switch (e.type) {
      case 'item-start':
        this.started.set(e.item, Date.now());
        break;
      case 'item-progress': {
        if (!this.tty) return;
        const secs = (Date.now() - (this.started.get(e.item) ?? Date.now())) / 1000;
        const rate = secs > 0 && e.bytes ? ` ${formatBytes(e.bytes / secs)}/s` : '';
        const pct = e.totalBytes
          ? ` ${Math.min(100, Math.round((e.bytes / e.totalBytes) * 100))}%`
          : e.percent !== undefined
            ? ` ${e.percent}%`
            : '';
        // The bytes reached, then the step under way (the row counts after a dump keep its bytes, never 0 B): a
        // narrow terminal cuts the end of the line, and a step may be long (pg_restore into "<name>").
        const amount = `${formatBytes(e.bytes)}${pct}${rate}`;
        const text = e.message ? (e.bytes ? `${amount}  ${e.message}` : e.message) : amount;
        this.line(`  ${e.item}: ${text}`);
        break;
      }
      case 'item-end':
        if (this.tty || !e.ok)
          this.print(
            `  ${e.ok ? 'ok    ' : 'FAILED'} ${e.item}${e.bytes !== undefined ? `  ${formatBytes(e.bytes)}` : ''}${e.durationMs !== undefined ? `  ${formatDuration(e.durationMs)}` : ''}${e.error ? `\n         ${e.error}` : ''}${e.hint ? `\n         hint: ${e.hint}` : ''}`,
          );
        break;
      case 'warning':
        this.print(`  warning${e.item ? ` (${e.item})` : ''}: ${e.message}`);
        break;
      case 'info':
        if (this.tty) this.print(`  ${e.message}`);
        break;
      default:
        break;
    }
  }

  private line(text: string): void {
    this.stream.write(`\r\x1b[2K${printable(this.mask(text)).slice(0, (this.stream.columns || 100) - 1)}`);
    this.live = true;
  }

  /**
   * Clears the live line, if one is shown: the command is about to write a line of its own (the scheduler's log
   * lines, a signal's answer), which was written on after the progress (`users: 67 MB 23%…Sat 2026-12-05 …`).
   */
  settle(): void {
    if (this.live) this.stream.write('\r\x1b[2K');
    this.live = false;
  }

  private print(text: string): void {
    this.settle();
    // Names come from files, tables and manifests: their control characters never reach the terminal as such.
    // On a terminal a warning or a failure is folded to its width at word boundaries; piped, it is written whole.
    const width = this.tty ? Math.max(40, this.stream.columns || 80) : null;
    this.stream.write(foldLine(printableLines(this.mask(text)), width) + '\n');
  }
}

/** With --json stdout carries one document; warnings and failures go to stderr as JSON lines. */
export class JsonLinesReporter implements Reporter {
  constructor(
    private readonly stream: NodeJS.WritableStream = process.stderr,
    private readonly mask: (text: string) => string = (text) => text,
  ) {}
  emit(e: ProgressEvent): void {
    if (e.type === 'warning' || (e.type === 'item-end' && !e.ok))
      this.stream.write(this.mask(JSON.stringify(e)) + '\n');
  }
}
