/**
 * A file name of 252–255 bytes (legal on ext4) is stored under a shortened name when its extensions would pass 255
 * bytes; the manifest's `stored` records it, and restore, verify and drill go by that path.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { storedPath } from '../src/engine/files.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup, type DemoSetup } from './helpers/tmp.js';

async function cli(s: DemoSetup, args: string[], expectCode = 0) {
  const r = await runCli([...args, '--config', s.configFile], { cwd: s.dir });
  expect(r.code, `respaldo ${args.join(' ')}\n${describeResult(r)}`).toBe(expectCode);
  return r;
}

const bytes = (p: string) => Buffer.byteLength(p.slice(p.lastIndexOf('/') + 1));

describe('storedPath', () => {
  it.each([
    ['short name, kept', 'app/a.txt', '.zst', false, 'application/app/a.txt.zst'],
    ['sealed', 'app/a.txt', '.gz', true, 'application/app/a.txt.gz.age'],
    ['246 bytes: .zst.age fits', `app/${'x'.repeat(246)}`, '.zst', true, `application/app/${'x'.repeat(246)}.zst.age`],
  ])('%s', (_what, rel, ext, sealed, want) => {
    expect(storedPath('application', rel, ext, sealed)).toBe(want);
  });

  it.each([
    ['255 ASCII bytes', 'x'.repeat(255)],
    ['252 ASCII bytes', 'y'.repeat(252)],
    ['254 bytes of 2-byte characters', 'é'.repeat(127)],
    ['253 bytes of 4-byte characters and one ASCII', '😀'.repeat(63) + 'a'],
  ])('%s: cut to fit with every extension and a later .age, distinct, on a character boundary', (_what, name) => {
    for (const [ext, sealed] of [
      ['.zst', false],
      ['.gz', true],
    ] as const) {
      const p = storedPath('config', `etc/${name}`, ext, sealed);
      expect(p.startsWith('config/etc/')).toBe(true);
      expect(p.endsWith(`${ext}${sealed ? '.age' : ''}`)).toBe(true);
      expect(bytes(p) + (sealed ? 0 : 4)).toBeLessThanOrEqual(255);
      expect(p).not.toContain('\uFFFD');
      expect(storedPath('config', `etc/${name.slice(0, -1)}z`, ext, sealed)).not.toBe(p);
    }
  });
});

describe.each(['zstd', 'gzip'] as const)('a file named with 255 bytes in a %s set', (codec) => {
  it('is stored (COMPLETED), verified, drilled and restored byte-identical under its own name', async () => {
    const s = demoSetup((c) => ({ ...c, compression: { codec } }));
    const name = `${'n'.repeat(251)}.txt`;
    writeFileSync(join(s.appDir, name), 'long name, same bytes\n');

    const m = parseJsonOutput<Manifest>((await cli(s, ['create', '--db', 'users', '--json'])).stdout);
    expect(m.status).toBe('completed');
    const entry = m.files.find((f) => f.relative === `app/${name}`)!;
    expect(bytes(entry.stored!)).toBeLessThanOrEqual(251);
    await cli(s, ['verify', m.id]);
    await cli(s, ['drill', m.id, '--files']);

    const to = join(s.dir, 'restored');
    await cli(s, ['restore', m.id, '--files', '--to', to, '--yes']);
    expect(readdirSync(join(to, 'application', 'app'))).toContain(name);
    expect(readFileSync(join(to, 'application', 'app', name), 'utf8')).toBe('long name, same bytes\n');
  }, 180_000);
});
