/**
 * An application folder of many small files (an uploads folder): stored and restored several at a time, each in a
 * folder the others share. Every file comes back with its bytes, mode and time; one damaged stored file among them
 * fails the restore (exit 5) with nothing at the target and no partial folder left, whichever file was under way.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';

describe('many small files', () => {
  it('are stored and restored whole, each with its mode and time; one damaged fails the restore, leaving nothing', async () => {
    const s = demoSetup({ files: { config: [], application: [{ path: './data/uploads', include: [] }] } });
    const uploads = join(s.dataDir, 'uploads');
    const names: string[] = [];
    for (let i = 0; i < 400; i++) {
      const name = `y${i % 5}/m${i % 20}/f${i}.txt`;
      mkdirSync(dirname(join(uploads, name)), { recursive: true });
      writeFileSync(join(uploads, name), `file ${i}\n`.repeat(i % 7));
      chmodSync(join(uploads, name), i % 2 ? 0o640 : 0o604);
      utimesSync(join(uploads, name), new Date(1_700_000_000_000 + i * 1000), new Date(1_700_000_000_000 + i * 1000));
      names.push(name);
    }
    const made = await runCli(['create', '--json', '--config', s.configFile], { cwd: s.dir });
    expect(made.code, describeResult(made)).toBe(0);
    const m = parseJsonOutput<Manifest>(made.stdout);
    // The manifest lists them in the order walked, whatever order they were stored in.
    const listed = m.files.map((f) => f.relative);
    expect(listed).toEqual([...listed].sort((a, b) => (a < b ? -1 : 1)));
    expect(listed).toHaveLength(400);

    const to = join(s.dir, 'restored');
    const r = await runCli(['restore', m.id, '--files', '--to', to, '--yes', '--config', s.configFile], { cwd: s.dir });
    expect(r.code, describeResult(r)).toBe(0);
    for (const [i, name] of names.entries()) {
      const back = join(to, 'application', 'uploads', name);
      expect(readFileSync(back, 'utf8'), name).toBe(`file ${i}\n`.repeat(i % 7));
      expect(statSync(back).mode & 0o777, name).toBe(i % 2 ? 0o640 : 0o604);
      expect(statSync(back).mtimeMs, name).toBe(1_700_000_000_000 + i * 1000);
    }

    // A set made before folders were recorded: each folder is made by the first of its files restored, several at once.
    const doc = JSON.parse(readFileSync(join(s.backupDir, m.id, 'manifest.json'), 'utf8')) as Manifest;
    delete doc.folders;
    writeFileSync(join(s.backupDir, m.id, 'manifest.json'), JSON.stringify(doc));
    const older = join(s.dir, 'older');
    const o = await runCli(['restore', m.id, '--files', '--to', older, '--yes', '--config', s.configFile], {
      cwd: s.dir,
    });
    expect(o.code, describeResult(o)).toBe(0);
    for (const [i, name] of names.entries())
      expect(readFileSync(join(older, 'application', 'uploads', name), 'utf8'), name).toBe(`file ${i}\n`.repeat(i % 7));

    // One stored file damaged (its last byte changed): the restore stops, and nothing is left where it wrote.
    const victim = m.files.find((f) => f.relative === 'uploads/y3/m13/f213.txt')!;
    const stored = join(s.backupDir, m.id, victim.stored!);
    const bytes = readFileSync(stored);
    bytes[bytes.length - 1]! ^= 0xff;
    writeFileSync(stored, bytes);
    const again = join(s.dir, 'again');
    const bad = await runCli(['restore', m.id, '--files', '--to', again, '--yes', '--config', s.configFile], {
      cwd: s.dir,
    });
    expect(bad.code, describeResult(bad)).toBe(5);
    expect(existsSync(again)).toBe(false);
    expect(readdirSync(s.dir).filter((n) => n.includes('respaldo-partial'))).toEqual([]);
  });
});
