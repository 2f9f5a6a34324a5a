import { Command, CommanderError, InvalidArgumentError, type Option } from 'commander';
import { errorWidth, foldLine } from './format.js';
import { EXIT, EXIT_DESCRIPTIONS, type ExitKind } from '../core/exit-codes.js';
import { VERSION } from '../version.js';
import { UsageError } from '../core/errors.js';
import { collect, reportError } from './context.js';
import { guardStdio, terminalClosed, watchHangup } from './terminal.js';
import { releaseEarlySignals } from './early-signals.js';

/** The message printed when the menu is asked for without a terminal. */
export const NO_TTY_MESSAGE =
  'respaldo: the interactive menu needs a terminal (stdin and stdout must be a TTY).\n' +
  'Use the subcommands instead: respaldo create | list | show <id> | verify | restore <id> | status | scheduler  (respaldo --help)';

function exitCodeHelp(): string {
  const rows: [number, string][] = (Object.keys(EXIT) as ExitKind[]).map((k) => [EXIT[k], EXIT_DESCRIPTIONS[k]]);
  // Not a code respaldo returns: it ends by SIGHUP (see cli/terminal.ts), which shells report as 128 + 1.
  rows.push([
    129,
    'the terminal closed (a dropped SSH session): stopped as with Ctrl-C, nothing half-made left visible',
  ]);
  return (
    '\nExit codes:\n' +
    rows
      .sort((a, b) => a[0] - b[0])
      .map(([code, text]) => `  ${String(code).padStart(3)}  ${text}`)
      .join('\n') +
    '\n'
  );
}

/** A command module: registers its top-level command(s) (options, help, action) on the program. */
interface CommandModule {
  register(program: Command): void;
}

/**
 * Every command module with the top-level commands it registers, in the order `--help` lists them.
 * A module (and the engine, drivers and destinations it imports) is loaded only when one of its
 * commands runs; the whole-program help and errors load them all (./commands/all.ts).
 */
const COMMANDS: { names: readonly string[]; load: () => Promise<CommandModule> }[] = [
  { names: ['create'], load: () => import('./commands/create.js') },
  { names: ['list', 'show'], load: () => import('./commands/list.js') },
  { names: ['verify'], load: () => import('./commands/verify.js') },
  { names: ['restore'], load: () => import('./commands/restore.js') },
  { names: ['drill'], load: () => import('./commands/drill.js') },
  { names: ['delete', 'status'], load: () => import('./commands/manage.js') },
  { names: ['prune', 'keep'], load: () => import('./commands/prune.js') },
  { names: ['schedule', 'scheduler'], load: () => import('./commands/schedule.js') },
  { names: ['notify'], load: () => import('./commands/notify.js') },
  { names: ['copy'], load: () => import('./commands/offsite.js') },
  { names: ['key'], load: () => import('./commands/key.js') },
];

/** The names of every top-level command, in help order (without commander's own `help`). */
export const COMMAND_NAMES: readonly string[] = COMMANDS.flatMap((c) => c.names);

/**
 * The program with the module of `argv`'s command only, when its first word names one; with none for
 * `--version` alone; otherwise (`--help`, `help`, a mistyped command) with every command, so help and
 * suggestions are complete.
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('respaldo')
    .description(
      'Backups of SQLite, PostgreSQL and SQL Server databases and their application files.\nWith no command, opens the interactive menu.',
    )
    .version(VERSION)
    .showHelpAfterError('(run respaldo --help for the commands)')
    .addHelpText('after', exitCodeHelp())
    // commander's own usage errors (an unknown option, a missing or refused value) folded at word boundaries to a
    // terminal's width as respaldo's own error lines are (errorWidth); piped or logged, whole. Subcommands made after
    // this inherit it.
    .configureOutput({ outputError: (text, write) => write(foldLine(text, errorWidth())) })
    .exitOverride();
  const named = COMMANDS.find((c) => c.names.includes(argv[0] ?? ''));
  const versionOnly = argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V');
  const modules: readonly CommandModule[] = named
    ? [await named.load()]
    : versionOnly
      ? []
      : (await import('./commands/all.js')).ALL_COMMANDS;
  for (const m of modules) m.register(program);
  for (const cmd of program.commands) onceOnly(cmd);
  for (const cmd of program.commands) noOptionAsValue(cmd);
  return program;
}

/**
 * An option's value that is one of the command's own options is refused (exit 2): commander takes the word after an
 * option that needs a value whatever it is, so `create --description $DESC --json` with DESC unset made a set
 * described "--json" and printed text to a script that read JSON, and `--json create --db` (hoisted to
 * `create --db --json`) looked for a database named "--json" and answered in text.
 */
function noOptionAsValue(cmd: Command): void {
  const names = new Set<string>();
  for (let c: Command | null = cmd; c; c = c.parent)
    for (const o of c.options) for (const n of [o.long, o.short]) if (n) names.add(n);
  for (const o of cmd.options) {
    if (!(o.required || o.optional)) continue;
    const inner = o.parseArg as ((value: string, previous: unknown) => unknown) | undefined;
    o.argParser((value: string, previous: unknown) => {
      if (names.has(value.replace(/=.*$/s, '')))
        throw new InvalidArgumentError(
          `${o.long ?? o.short} needs a value, and the next word is the option ${value}: give the value after ${o.long ?? o.short}.`,
        );
      return inner ? inner(value, previous) : value;
    });
  }
  for (const sub of cmd.commands) noOptionAsValue(sub);
}

/**
 * Every option of `cmd` that takes one value refuses a second one in the run the program is built for (exit 2):
 * commander kept the last, so `create --type full --type incremental` made an incremental and `restore --to a
 * --to b` wrote to b without a word. Repeatable options (`--db`, collected into a list) are left as they are.
 */
function onceOnly(cmd: Command, seen = new Set<Option>()): void {
  for (const o of cmd.options) {
    if (!(o.required || o.optional) || o.variadic || o.parseArg === collect) continue;
    const inner = o.parseArg as ((value: string, previous: unknown) => unknown) | undefined;
    // Counted, not compared with the previous value: an option with a default sees it as `previous` the first time.
    o.argParser((value: string, previous: unknown) => {
      if (seen.has(o))
        throw new InvalidArgumentError(
          `${o.long ?? o.short} is given twice (${String(previous)}, ${value}): give it once.`,
        );
      seen.add(o);
      return inner ? inner(value, undefined) : value;
    });
  }
  for (const sub of cmd.commands) onceOnly(sub, seen);
}

/** Options the menu accepts when respaldo runs with no command. */
function menuArgs(argv: string[]): { configPath?: string; lang?: 'en' | 'es' } | null {
  const out: { configPath?: string; lang?: 'en' | 'es' } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string | undefined => (a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]);
    if (a === '--config' || a === '-c' || a.startsWith('--config=')) {
      const v = value();
      if (v) out.configPath = v;
    } else if (a === '--lang' || a.startsWith('--lang=')) {
      const v = value();
      if (v === 'es' || v === 'en') out.lang = v;
    } else return null;
  }
  return out;
}

/** Options every command takes, which operators also type before the command's name. */
const GLOBAL_OPTIONS: Readonly<Record<string, 'value' | 'flag'>> = {
  '--config': 'value',
  '-c': 'value',
  '--json': 'flag',
};

/**
 * `respaldo --config FILE list` as `respaldo list --config FILE`: the global options typed before a
 * command's name are moved after its words (before a `--`, if there is one), where commander reads them.
 * Anything else before the name (a mistyped option, the menu's `--lang`) leaves argv as it is.
 */
export function hoistGlobalOptions(argv: readonly string[]): string[] {
  const leading: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const a = argv[i]!;
    const name = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    const kind = GLOBAL_OPTIONS[name];
    if (!kind || (kind === 'flag' && name !== a)) break;
    if (kind === 'value' && name === a) {
      if (i + 1 >= argv.length) break;
      leading.push(a, argv[i + 1]!);
      i += 2;
    } else {
      leading.push(a);
      i += 1;
    }
  }
  // A word that is no command is hoisted past too, so that commander names it ("unknown command 'bogus'") rather
  // than the global option before it ("unknown option '--config'").
  const next = argv[i];
  if (leading.length === 0 || next === undefined || (!COMMAND_NAMES.includes(next) && next.startsWith('-')))
    return [...argv];
  const rest = argv.slice(i);
  const dashes = rest.indexOf('--');
  return dashes < 0 ? [...rest, ...leading] : [...rest.slice(0, dashes), ...leading, ...rest.slice(dashes)];
}

export async function main(typed: string[]): Promise<number> {
  const argv = hoistGlobalOptions(typed);
  // `respaldo --json` alone: the menu has no JSON; commander said "unknown option '--json'", which is documented.
  if (argv.includes('--json') && menuArgs(argv.filter((a) => a !== '--json')))
    return reportError(
      new UsageError('--json goes with a command (the menu has no JSON output).', 'For example: respaldo --json list'),
      true,
    );
  // The menu's --lang: a value it does not know was ignored without a word.
  const at = argv.findIndex((a) => a === '--lang' || a.startsWith('--lang='));
  const langValue = at < 0 ? undefined : argv[at]!.includes('=') ? argv[at]!.slice('--lang='.length) : argv[at + 1];
  if (at >= 0 && langValue !== 'es' && langValue !== 'en' && menuArgs(argv))
    return reportError(
      new UsageError(`--lang must be es or en (got ${JSON.stringify(langValue ?? '')}).`, 'respaldo --lang es'),
      false,
    );
  const menu = menuArgs(argv);
  if (menu) {
    if (!process.stdin.isTTY || !process.stdout.isTTY) {
      process.stderr.write(NO_TTY_MESSAGE + '\n');
      return EXIT.usage;
    }
    // Ink draws only the final frame when CI is set (it reads it once, at import); the menu is
    // opened only on a real terminal, so a CI variable left in an operator's shell must not blank it.
    delete process.env.CI;
    const { runMenu } = await import('../ui/app.js');
    releaseEarlySignals();
    watchHangup();
    guardStdio(true);
    return runMenu({ ...menu, terminalClosed });
  }
  const program = await buildProgram(argv);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')
        return EXIT.ok;
      // With --json the one document on stdout is the error, as for every other usage error (stderr has it too).
      if (argv.includes('--json'))
        process.stdout.write(
          JSON.stringify(
            {
              error: 'usage',
              message: err.message.replace(/^error: /, ''),
              hint: 'Run respaldo --help for the commands, or respaldo <command> --help for its options.',
              exitCode: EXIT.usage,
            },
            null,
            2,
          ) + '\n',
        );
      return EXIT.usage;
    }
    return reportError(err, argv.includes('--json'));
  }
  return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
}
