import { hostname, userInfo } from 'node:os';

/** Who ran an operation: recorded in the manifest of every set and in the log line that starts an operation. */
export interface RanBy {
  /** OS user name (or `uid <n>` where the system has no name for it). */
  user: string;
  host: string;
  pid: number;
  /** The command line as typed, from `respaldo` on (respaldo never takes a secret on its command line). */
  command: string;
}

let cached: RanBy | undefined;

/** The OS user, host, pid and command line of this process. */
export function ranBy(): RanBy {
  cached ??= { user: osUser(), host: hostname(), pid: process.pid, command: commandLine(process.argv.slice(2)) };
  return cached;
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env['USER'] ?? process.env['LOGNAME'] ?? `uid ${process.getuid?.() ?? '?'}`;
  }
}

/** Pure: `respaldo` and its arguments, quoted where a shell would need it. */
export function commandLine(args: readonly string[]): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return ['respaldo', ...args.map(quote)].join(' ');
}
