import { Command, CommanderError } from 'commander';
import { EXIT, EXIT_DESCRIPTIONS, type ExitKind } from '../core/exit-codes.js';
import { VERSION } from '../version.js';
import { register as registerCreate } from './commands/create.js';
import { register as registerDrill } from './commands/drill.js';
import { register as registerKey } from './commands/key.js';
import { register as registerList } from './commands/list.js';
import { register as registerManage } from './commands/manage.js';
import { register as registerNotify } from './commands/notify.js';
import { register as registerOffsite } from './commands/offsite.js';
import { register as registerPrune } from './commands/prune.js';
import { register as registerRestore } from './commands/restore.js';
import { register as registerSchedule } from './commands/schedule.js';
import { register as registerVerify } from './commands/verify.js';
import { reportError } from './context.js';
import { guardStdio, terminalClosed, watchHangup } from './terminal.js';

/** The message printed when the menu is asked for without a terminal. */
export const NO_TTY_MESSAGE =
  'respaldo: the interactive menu needs a terminal (stdin and stdout must be a TTY).\n' +
  'Use the subcommands instead: respaldo create | list | show <id> | verify | restore <id> | status | scheduler  (respaldo --help)';

function exitCodeHelp(): string {
  return (
    '\nExit codes:\n' +
    (Object.keys(EXIT) as ExitKind[])
      .map((k) => `  ${String(EXIT[k]).padStart(3)}  ${EXIT_DESCRIPTIONS[k]}`)
      .join('\n') +
    '\n'
  );
}

export function buildProgram(): Command {
  const program = new Command('respaldo')
    .description(
      'Backups of SQLite, PostgreSQL and SQL Server databases and their application files.\nWith no command, opens the interactive menu.',
    )
    .version(VERSION)
    .showHelpAfterError('(run respaldo --help for the commands)')
    .addHelpText('after', exitCodeHelp())
    .exitOverride();
  registerCreate(program);
  registerList(program);
  registerVerify(program);
  registerRestore(program);
  registerDrill(program);
  registerManage(program);
  registerPrune(program);
  registerSchedule(program);
  registerNotify(program);
  registerOffsite(program);
  registerKey(program);
  return program;
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

export async function main(argv: string[]): Promise<number> {
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
    watchHangup();
    guardStdio(true);
    return runMenu({ ...menu, terminalClosed });
  }
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')
        return EXIT.ok;
      return EXIT.usage;
    }
    return reportError(err, argv.includes('--json'));
  }
  return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
}
