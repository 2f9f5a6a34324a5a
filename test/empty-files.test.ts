/**
 * An empty config or application file (an empty `.env`, a placeholder) is stored as a valid, empty gzip
 * member or zstd frame, so that `gunzip`/`zstd -d` by hand and respaldo's restore both give an empty file;
 * and sets stored before that (a 0-byte stored file) still restore.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

async function cli(s: DemoSetup, args: string[], expectCode = 0) {
  const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
  expect(r.code, `respaldo ${args.join(' ')}\n${describeResult(r)}`).toBe(expectCode);
  return r;
}

describe.each(['gzip', 'zstd'] as const)('an empty file in a %s set', (codec) => {
  it('is stored as a valid empty stream and restored as an empty file; a 0-byte stored file restores too', async () => {
    const s = demoSetup((c) => ({ ...c, compression: { codec } }));
    writeFileSync(join(s.appDir, 'empty.txt'), '');
    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--json'])).stdout);
    const entry = m.files.find((f) => f.relative.endsWith('empty.txt'))!;
    expect(entry, JSON.stringify(m.files.map((f) => f.relative))).toBeDefined();
    expect(entry.size).toBe(0);
    const stored = join(s.backupDir, m.id, entry.stored!);
    const tool = codec === 'gzip' ? ['gzip', ['-dc', stored]] : ['zstd', ['-dcq', stored]];
    const byHand = spawnSync(tool[0] as string, tool[1] as string[]);
    expect(byHand.status, byHand.stderr.toString()).toBe(0);
    expect(byHand.stdout.length).toBe(0);

    const to = join(s.dir, 'restored');
    await cli(s, ['restore', m.id, '--files', '--to', to, '--yes']);
    expect(statSync(join(to, 'application', entry.relative)).size).toBe(0);
    const settings = m.files.find((f) => f.group === 'application' && f.relative.endsWith('settings.json'))!;
    expect(readFileSync(join(to, 'application', settings.relative), 'utf8')).toBe(
      readFileSync(join(s.appDir, 'settings.json'), 'utf8'),
    );

    // A set written before: the empty file stored as 0 bytes, its manifest saying so.
    truncateSync(stored, 0);
    const manifestFile = join(s.backupDir, m.id, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    const old = manifest.files.find((f) => f.relative === entry.relative)!;
    Object.assign(old, {
      md5: 'd41d8cd98f00b204e9800998ecf8427e',
      sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    });
    writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));
    await cli(s, ['verify', m.id]);
    const again = join(s.dir, 'restored-old');
    await cli(s, ['restore', m.id, '--files', '--to', again, '--yes']);
    expect(statSync(join(again, 'application', entry.relative)).size).toBe(0);
  }, 180_000);
});
