/**
 * CLI text output at the terminal's width: `list` and the restore plan fold at word boundaries to
 * the columns they are given (a terminal), and stay whole, one line per set, when piped. Times are
 * the operator's local time. One run of the real binary in an 80-column tmux pane.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { SetSummary } from '../src/core/types.js';
import { formatLocal, wrapWords } from '../src/core/format.js';
import { setsTable } from '../src/cli/commands/list.js';
import { printRestorePlan } from '../src/cli/commands/restore.js';
import type { CommandIO } from '../src/cli/context.js';
import { foldLine } from '../src/cli/format.js';
import { runCli } from './helpers/cli.js';
import { makeTmpDir, writeConfig } from './helpers/tmp.js';
import { TMUX_SERVER, startCliInTmux } from './helpers/tty.js';
import { FakeFacade } from './ui-fake-facade.js';

function summary(id: string, over: Partial<SetSummary> = {}): SetSummary {
  return {
    id,
    type: 'full',
    status: 'completed',
    description: null,
    startedAt: '2026-11-22T10:00:00.000Z',
    completedAt: '2026-11-22T10:00:04.000Z',
    databases: ['users', 'inventario', 'auditoria'],
    failedDatabases: [],
    files: 12,
    storedBytes: 1234567,
    job: null,
    keep: false,
    lastVerified: { at: '2026-11-22T11:00:00.000Z', ok: true },
    path: `/srv/backups/${id}`,
    ...over,
  };
}

const SETS = [
  summary('20261122_100000', { keep: true }),
  summary('20261121_100000', {
    status: 'partial',
    failedDatabases: ['reportes_historicos'],
    lastVerified: { at: '2026-11-21T11:00:00.000Z', ok: false },
  }),
  summary('20261120_100000', { type: 'pre_restore', databases: ['users'], lastVerified: null }),
];

describe('wrapWords', () => {
  it.each([
    ['hello world this is a test', 11, '  ', ['hello world', '  this is a', '  test']],
    ['averyveryverylongword and more', 10, '', ['averyveryv', 'erylongwor', 'd and more']],
    ['short', 80, '', ['short']],
    ['a\nb c d', 3, '', ['a', 'b c', 'd']],
  ])('%j at %i', (text, width, indent, expected) => {
    expect(wrapWords(text, width, indent)).toEqual(expected);
  });
});

describe('list at a width', () => {
  it('piped: one whole line per set, full local dates, the FILES column', () => {
    const lines = setsTable(SETS, null).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^ID\s+DATE\s+TYPE\s+STATUS\s+DATABASES\s+FILES\s+SIZE\s+VERIFIED\s+DRILLED$/);
    expect(lines[1]).toContain(formatLocal('2026-11-22T10:00:00.000Z'));
    expect(lines[1]).toContain('users,inventario,auditoria');
    expect(lines[2]).toContain('reportes_historicos(failed)');
  });

  it.each([80, 60])('at %i columns: no line is wider, no name is cut, every set id is there', (width) => {
    const text = setsTable(SETS, width);
    for (const l of text.split('\n')) expect(l.length, l).toBeLessThanOrEqual(width);
    for (const s of SETS) expect(text).toContain(s.id);
    const words = text.split(/[\s,]+/);
    for (const name of ['users', 'inventario', 'auditoria', 'reportes_historicos(failed)'])
      expect(words).toContain(name);
    expect(text).toContain(formatLocal('2026-11-22T10:00:00.000Z', { short: true }));
    if (process.env.SHOW_FRAMES) console.log(text);
  });

  it('typical sets at 80 columns: one line each, databases folded at a comma at most once', () => {
    const typical = [summary('20261122_100000'), summary('20261121_100000', { databases: ['users'] })];
    const lines = setsTable(typical, 80).split('\n');
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
    expect(lines.length).toBeLessThanOrEqual(1 + 2 * typical.length);
    expect(lines[1]).toMatch(/^20261122_100000 /);
  });

  it('a wide terminal gets the whole table unchanged', () => {
    expect(setsTable(SETS, 200)).toBe(setsTable(SETS, null));
  });
});

describe('the restore plan at a width', () => {
  async function planText(width: number | null): Promise<string> {
    const facade = new FakeFacade();
    const plan = await facade.planRestore({
      setId: '20261122_100000',
      databases: ['users', 'inventario', 'auditoria'],
      files: true,
    });
    const lines: string[] = [];
    printRestorePlan(
      { out: (l: string) => lines.push(l) } as unknown as CommandIO,
      {
        ...plan,
        warnings: [
          'the set was taken by respaldo 0.0.9 with another engine version; the restored database may need an upgrade step',
        ],
      },
      width,
    );
    return lines.join('\n');
  }

  it('folds at word boundaries at 80 columns and shows the set time in local time', async () => {
    const text = await planText(80);
    for (const l of text.split('\n')) expect(l.length, l).toBeLessThanOrEqual(80);
    expect(text).toContain(`taken ${formatLocal('2026-11-22T10:00:00.000Z')}`);
    expect(text).not.toContain('2026-11-22T10:00:00');
    // Folding only ever replaces a space by a line break and an indent.
    expect(text.replace(/\s+/g, ' ')).toBe((await planText(null)).replace(/\s+/g, ' '));
  });

  it('keeps lines whole when piped', async () => {
    expect((await planText(null)).split('\n').some((l) => l.length > 80)).toBe(true);
  });

  it('foldLine indents continuation lines under their own line', () => {
    expect(foldLine('    roll back: respaldo restore <pre_restore set id> --db users --yes', 40)).toBe(
      '    roll back: respaldo restore\n      <pre_restore set id> --db users\n      --yes',
    );
  });
});

describe('list in a real 80-column terminal', () => {
  it('no line is wider than the terminal (wrapped lines joined), and piped output is whole', async () => {
    execFileSync('tmux', ['-V']);
    const dir = makeTmpDir('respaldo-width-');
    const setup = writeConfig(dir);
    for (let i = 0; i < 2; i++) expect((await runCli(['create', '--config', setup.configFile])).code).toBe(0);
    const piped = await runCli(['list', '--config', setup.configFile]);
    expect(piped.code).toBe(0);
    expect(piped.stdout.split('\n').filter((l) => /^\d{8}_\d{6}/.test(l))).toHaveLength(2);
    // `show` gives local times, not the manifest's UTC ISO strings.
    const shown = await runCli(['show', 'latest', '--config', setup.configFile]);
    expect(shown.stdout).toMatch(/started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}completed \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    expect(shown.stdout).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d/);
    const tty = startCliInTmux(['list', '--config', setup.configFile], dir, { width: 80, height: 30 });
    try {
      expect(await tty.exitCode()).toBe(0);
      const joined = execFileSync('tmux', [...TMUX_SERVER, 'capture-pane', '-p', '-J', '-t', tty.name], {
        encoding: 'utf8',
      });
      expect(joined).toMatch(/set\(s\) in/);
      for (const l of joined.split('\n')) expect(l.trimEnd().length, l).toBeLessThanOrEqual(80);
      expect(joined.match(/^\d{8}_\d{6}/gm)).toHaveLength(2);
    } finally {
      tty.kill();
    }
  }, 60_000);
});

describe('status in a real 80-column terminal', () => {
  it('a failed drill and long health problems fold at spaces: no line is wider than the terminal', async () => {
    execFileSync('tmux', ['-V']);
    const dir = makeTmpDir('respaldo-width-');
    const setup = writeConfig(dir);
    const created = await runCli(['create', '--json', '--no-files', '--config', setup.configFile]);
    expect(created.code).toBe(0);
    const m = JSON.parse(created.stdout) as { id: string; databases: { file: string }[] };
    const { appendFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    appendFileSync(join(setup.backupDir, m.id, m.databases[0]!.file), 'damage');
    expect((await runCli(['drill', m.id, '--config', setup.configFile])).code).not.toBe(0);
    const tty = startCliInTmux(['status', '--config', setup.configFile], dir, { width: 80, height: 40 });
    try {
      await tty.exitCode();
      const joined = execFileSync('tmux', [...TMUX_SERVER, 'capture-pane', '-p', '-J', '-t', tty.name], {
        encoding: 'utf8',
      });
      expect(joined).toMatch(/FAILED/);
      expect(joined).toMatch(/Health: \d+ problem/);
      for (const l of joined.split('\n')) expect(l.trimEnd().length, l).toBeLessThanOrEqual(80);
    } finally {
      tty.kill();
    }
  }, 60_000);
});

describe("the CLI's error, hint and warning lines in a real 80-column terminal", () => {
  /** The pane as the terminal shows it, lines it wrapped itself joined back (so a word cut at the edge shows). */
  const joinedPane = (name: string): string =>
    execFileSync('tmux', [...TMUX_SERVER, 'capture-pane', '-p', '-J', '-t', name], { encoding: 'utf8' });

  it('fold at word boundaries on a terminal, and stay byte for byte as they were when piped', async () => {
    execFileSync('tmux', ['-V']);
    const dir = makeTmpDir('respaldo-width-');
    const nas = `${dir}/mnt/the-share-of-the-office-nas-that-is-not-mounted`;
    const setup = writeConfig(dir, {
      destinations: [{ name: 'nas', type: 'folder', path: nas, copyAfterBackup: false }],
    });
    const created = await runCli(['create', '--json', '--no-files', '--config', setup.configFile]);
    expect(created.code).toBe(0);
    const id = (JSON.parse(created.stdout) as { id: string }).id;
    const error = `destination "nas": ${nas} does not exist (not mounted?)`;
    // Piped: whole lines, as scripts and the tests that pin them read them.
    const piped = await runCli(['list', '--from', 'nas', '--config', setup.configFile]);
    expect(piped.stderr).toBe(`respaldo: ${error}\nhint: Mount it, then run the command again.\n`);
    const copied = await runCli(['copy', id, '--to', 'nas', '--config', setup.configFile]);
    expect(copied.stderr).toContain(`  warning: set ${id} NOT copied to nas: ${error}\n`);
    expect(copied.stderr).toContain(`NOT copied: ${id} to nas: ${error}\n  hint: Mount it`);
    for (const args of [
      ['list', '--from', 'nas'],
      ['copy', id, '--to', 'nas'],
    ]) {
      const tty = startCliInTmux([...args, '--config', setup.configFile], dir, { width: 80, height: 30 });
      try {
        expect(await tty.exitCode()).not.toBe(0);
        const pane = joinedPane(tty.name);
        const lines = pane.split('\n');
        for (const l of lines) expect(l.trimEnd().length, pane).toBeLessThanOrEqual(80);
        // every word whole on its line, the path among them; the text the same but for the line breaks
        const words = pane.split(/\s+/);
        for (const w of error.split(' ')) expect(words, pane).toContain(w);
        expect(pane.replace(/\s+/g, ' ')).toContain(`${error} hint: Mount it, then run the command again.`);
        // continuation lines keep the indent of their line (two more), as the other folded CLI text
        const at = lines.findIndex((l) => l.startsWith(args[0] === 'list' ? 'respaldo: ' : 'NOT copied: '));
        expect(lines[at + 1], pane).toMatch(/^ {2}\S/);
      } finally {
        tty.kill();
      }
    }
  }, 60_000);
});

describe("commander's own usage errors in a real 80-column terminal", () => {
  it('a refused value and an unknown option fold at spaces like respaldo’s own errors, exit 2 (usage)', async () => {
    execFileSync('tmux', ['-V']);
    const dir = makeTmpDir('respaldo-width-');
    const setup = writeConfig(dir);
    // commander's message, then respaldo's reason: 167 characters on one line before
    const refused = startCliInTmux(['create', '--description', '--db', 'users', '--config', setup.configFile], dir, {
      width: 80,
      height: 30,
    });
    try {
      expect(await refused.exitCode()).toBe(2);
      const joined = execFileSync('tmux', [...TMUX_SERVER, 'capture-pane', '-p', '-J', '-t', refused.name], {
        encoding: 'utf8',
      });
      expect(joined).toContain("error: option '--description <text>' argument '--db' is invalid.");
      expect(joined.replace(/\s+/g, ' ')).toContain('give the value after --description.');
      for (const l of joined.split('\n')) expect(l.trimEnd().length, l).toBeLessThanOrEqual(80);
    } finally {
      refused.kill();
    }
    const unknown = startCliInTmux(['verify', '--frm', 'offsite', '--config', setup.configFile], dir, {
      width: 80,
      height: 30,
    });
    try {
      expect(await unknown.exitCode()).toBe(2);
      expect(unknown.screen()).toContain("error: unknown option '--frm'");
    } finally {
      unknown.kill();
    }
    // Piped: whole, one line, as scripts and logs read it
    const piped = await runCli(['create', '--description', '--db', 'users', '--config', setup.configFile]);
    expect(piped.code).toBe(2);
    expect(piped.stderr).toMatch(/^error: option .* give the value after --description\.$/m);
  }, 60_000);
});

describe('prune and prune --from in a real 80-column terminal', () => {
  it('the table folds its WHY at word boundaries as list folds: no line wider, no word cut; piped it is whole', async () => {
    execFileSync('tmux', ['-V']);
    const dir = makeTmpDir('respaldo-width-');
    const setup = writeConfig(dir, {
      destinations: [{ name: 'nas', type: 'folder', path: `${dir}/nas`, copyAfterBackup: false }],
    });
    mkdirSync(`${dir}/nas`);
    for (let i = 0; i < 2; i++)
      expect((await runCli(['create', '--no-files', '--config', setup.configFile])).code).toBe(0);
    expect((await runCli(['copy', '--config', setup.configFile])).code).toBe(0);
    for (const args of [
      ['prune', '--dry-run'],
      ['prune', '--from', 'nas', '--dry-run'],
    ]) {
      const piped = await runCli([...args, '--config', setup.configFile]);
      expect(piped.code, piped.stderr).toBe(0);
      // Piped: one whole line per set, its reasons after it (wider than 80 columns: what the terminal would cut).
      const rows = piped.stdout.split('\n').filter((l) => /^\d{8}_\d{6}/.test(l));
      expect(rows).toHaveLength(2);
      expect(
        rows.some((l) => l.length > 80),
        piped.stdout,
      ).toBe(true);
      const tty = startCliInTmux([...args, '--config', setup.configFile], dir, { width: 80, height: 40 });
      try {
        expect(await tty.exitCode()).toBe(0);
        const pane = execFileSync('tmux', [...TMUX_SERVER, 'capture-pane', '-p', '-J', '-t', tty.name], {
          encoding: 'utf8',
        });
        expect(pane).toMatch(/set\(s\) would be removed/);
        for (const l of pane.split('\n')) expect(l.trimEnd().length, pane).toBeLessThanOrEqual(80);
        expect(pane.match(/^\d{8}_\d{6}/gm), pane).toHaveLength(2);
        // Every word piped is whole in the pane, the title WHY too: under the titles, as reasons go under their set.
        const words = pane.split(/\s+/);
        for (const w of piped.stdout.split(/\s+/)) expect(words, pane).toContain(w);
        const titles = pane.split('\n').findIndex((l) => l.startsWith('SET '));
        expect(pane.split('\n')[titles + 1], pane).toMatch(/^ {4}(.*: )?WHY$/);
        expect(pane.replace(/\s+/g, ' ')).toContain(piped.stdout.split('\n').at(-2)!.replace(/\s+/g, ' ').trim());
        if (process.env.SHOW_FRAMES) console.log(pane);
      } finally {
        tty.kill();
      }
    }
  }, 90_000);
});
