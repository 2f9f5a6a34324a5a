import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type LogLine = Record<string, unknown> & { time: string; event: string };

/**
 * The daily logs' complete lines, oldest day first (rotated pieces left out). A line still being appended by a
 * running respaldo may be read half written (one write() is not atomic against a reader once it crosses a page):
 * what follows the last newline is left for the next read, never parsed.
 */
export function logLines(backupDir: string): LogLine[] {
  const dir = join(backupDir, 'logs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^backup_\d{4}-\d{2}-\d{2}\.log$/.test(f))
    .sort()
    .flatMap((f) => {
      const text = readFileSync(join(dir, f), 'utf8');
      return text
        .slice(0, text.lastIndexOf('\n') + 1)
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as LogLine);
    });
}
