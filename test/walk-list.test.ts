import { describe, expect, it } from 'vitest';
import type { FileItem } from '../src/engine/files.js';
import { WalkList } from '../src/engine/walk-list.js';

describe('WalkList', () => {
  it('gives back each file as pushed, whatever its paths, owner, target and marks', () => {
    const item = (over: Partial<FileItem>): FileItem => ({
      group: 'application',
      source: '/srv/app/uploads/d1/a.txt',
      relative: 'uploads/d1/a.txt',
      kind: 'file',
      size: 200,
      mode: 0o644,
      mtime: 1_764_000_000_123,
      uid: 1000,
      gid: 1000,
      linkTarget: null,
      ...over,
    });
    const items: FileItem[] = [
      item({}),
      item({ source: '/srv/app/uploads/d1/b ñandú 😀.txt', relative: 'uploads/d1/b ñandú 😀.txt', size: 2 ** 40 }),
      item({ group: 'config', source: '/etc/app/app.ini', relative: 'etc/app/app.ini', uid: 4_294_967_294, gid: 0 }),
      // A config file outside its folder: its relative path does not end as its source.
      item({ group: 'config', source: '/opt/x/.env', relative: 'opt/x/.env.other', mode: 0o7777 }),
      item({ kind: 'symlink', size: 0, linkTarget: '../target 😀', source: '/srv/app/l', relative: 'l' }),
      item({ kind: 'symlink', size: 0, linkTarget: 'bad \ud800 target', linkTargetBytes: Buffer.from([0xff]) }),
      item({ source: '/srv/app/lone\udc00', relative: 'uploads/lone\udc00' }),
      item({ exact: { source: Buffer.from([0x2f, 0xf1]), relative: Buffer.from([0x75, 0xf1]) }, relative: 'u\\xf1' }),
      item({ sqlite: { role: 'database', database: '/srv/app/uploads/d1/a.txt' } }),
      item({ sqlite: { role: 'side', database: '/srv/app/uploads/d1/a.txt' }, source: '/srv/app/x-wal' }),
      item({ source: '/', relative: '' }),
    ];
    // Past one chunk of numbers (4096) and one buffer of text (256 KiB).
    for (let i = 0; i < 20_000; i++)
      items.push(
        item({
          source: `/srv/app/d${i >> 9}/f${i}.${'x'.repeat(i % 40)}`,
          relative: `app/d${i >> 9}/f${i}.${'x'.repeat(i % 40)}`,
          mtime: i,
        }),
      );
    const list = WalkList.of(items);
    expect(list.length).toBe(items.length);
    expect(list.totalSize).toBe(items.reduce((s, i) => s + i.size, 0));
    expect([...list]).toEqual(items);
    expect(list.map((i, n) => [i.relative, n])[7]).toEqual(['u\\xf1', 7]);
    expect([list.isSymlink(4), list.isSymlink(0), list.sqliteRole(8), list.sqliteRole(9), list.size(1)]).toEqual([
      true,
      false,
      'database',
      'side',
      2 ** 40,
    ]);
  });
});
