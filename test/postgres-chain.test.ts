import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, test } from 'vitest';
import type { DatabaseEntry, StoredFile } from '../src/core/types.js';
import {
  assemblyPlan,
  baseContents,
  encodeChainMap,
  knownContents,
  parseChainMap,
  chainSources,
  type DumpSource,
  type ChainMap,
} from '../src/drivers/postgres/chain.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const F = '20261101_000000';
const I1 = '20261102_000000';
const I2 = '20261103_000000';

function entry(extras: string[], base?: string): DatabaseEntry {
  const x = (role: string): StoredFile => ({
    file: `databases/inv_x.${role}`,
    compressed: false,
    rawBytes: 1,
    storedBytes: 1,
    md5: '',
    sha256: '',
    role,
  });
  return {
    name: 'inventario',
    engine: 'postgres',
    file: 'databases/inv_x.toc.dat',
    format: 'pg-directory',
    compressed: false,
    rawBytes: 1,
    storedBytes: 1,
    md5: null,
    sha256: null,
    tables: {},
    durationMs: 0,
    error: null,
    details: {},
    extras: extras.map(x),
    ...(base ? { base } : {}),
  };
}

/** A set's parts as an openPart: role → content (a missing role throws, as the engine's does). */
function parts(content: Record<string, string>): (role?: string) => Readable {
  return (role = 'main') => {
    if (!(role in content)) throw new Error(`no ${role} part`);
    return Readable.from([Buffer.from(content[role]!)]);
  };
}

const map = (files: ChainMap['files']): ChainMap => ({ version: 1, files });

describe('content map', () => {
  test('encodes in file order and parses back', () => {
    const m = map({
      '3360.dat': { sha256: sha('b'), bytes: 1, set: F, stored: '3358.dat' },
      '3359.dat': { sha256: sha('a'), bytes: 1, set: null, stored: '3359.dat' },
    });
    const text = encodeChainMap(m);
    expect(text.indexOf('3359.dat')).toBeLessThan(text.indexOf('3360.dat'));
    expect(parseChainMap(text)).toEqual(m);
  });

  test.each([
    ['not JSON', '{', /not JSON/],
    ['another version', '{"version":2,"files":{}}', /unknown version/],
    ['no files', '{"version":1}', /no files/],
    [
      'a path as a file name',
      `{"version":1,"files":{"../x":{"sha256":"${sha('a')}","bytes":1,"set":null,"stored":"x"}}}`,
      /file "\.\.\/x"/,
    ],
    [
      'the TOC as a data file',
      `{"version":1,"files":{"toc.dat":{"sha256":"${sha('a')}","bytes":1,"set":null,"stored":"toc.dat"}}}`,
      /toc\.dat/,
    ],
    ['a short hash', '{"version":1,"files":{"1.dat":{"sha256":"ab","bytes":1,"set":null,"stored":"1.dat"}}}', /1\.dat/],
    [
      'a negative size',
      `{"version":1,"files":{"1.dat":{"sha256":"${sha('a')}","bytes":-1,"set":null,"stored":"1.dat"}}}`,
      /1\.dat/,
    ],
    [
      'a set that is not a set id',
      `{"version":1,"files":{"1.dat":{"sha256":"${sha('a')}","bytes":1,"set":"../x","stored":"1.dat"}}}`,
      /1\.dat/,
    ],
    [
      'a stored name with a slash',
      `{"version":1,"files":{"1.dat":{"sha256":"${sha('a')}","bytes":1,"set":null,"stored":"a/b"}}}`,
      /1\.dat/,
    ],
  ])('refuses %s', (_what, text, message) => {
    expect(() => parseChainMap(text)).toThrow(message);
  });

  test('a file named __proto__ is a file, not a prototype', () => {
    const text = `{"version":1,"files":{"__proto__":{"sha256":"${sha('a')}","bytes":1,"set":null,"stored":"x.dat"}}}`;
    const m = parseChainMap(text);
    expect(Object.keys(m.files)).toEqual(['__proto__']);
    expect(assemblyPlan(m, I1, [F]).map((s) => s.name)).toEqual(['__proto__']);
  });

  test('known contents of a base: its own files under its id, references kept, the first of equal bytes wins', () => {
    const known = knownContents(
      map({
        '10.dat': { sha256: sha('x'), bytes: 1, set: null, stored: '10.dat' },
        '11.dat': { sha256: sha('y'), bytes: 1, set: F, stored: '7.dat' },
        '12.dat': { sha256: sha('x'), bytes: 1, set: F, stored: '9.dat' },
      }),
      I1,
    );
    expect(Object.fromEntries(known)).toEqual({
      [sha('x')]: { set: I1, stored: '10.dat' },
      [sha('y')]: { set: F, stored: '7.dat' },
    });
  });
});

describe('assembly plan', () => {
  const m = map({
    '20.dat': { sha256: sha('own'), bytes: 3, set: null, stored: '20.dat' },
    '21.dat': { sha256: sha('old'), bytes: 3, set: F, stored: '5.dat' },
    '22.dat': { sha256: sha('mid'), bytes: 3, set: I1, stored: '6.dat' },
  });

  test.each([
    [
      'every file from the set storing it',
      [F, I1],
      [
        ['20.dat', null, 'pgdir:20.dat'],
        ['21.dat', F, 'pgdir:5.dat'],
        ['22.dat', I1, 'pgdir:6.dat'],
      ],
    ],
  ])('%s', (_what, chain, want) => {
    expect(assemblyPlan(m, I2, chain).map((s) => [s.name, s.from, s.role])).toEqual(want);
  });

  test('a reference outside the chain is refused', () => {
    expect(() => assemblyPlan(m, I2, [F])).toThrow(/needs 22\.dat from set 20261102_000000, which is not in its chain/);
  });
});

describe('base contents', () => {
  test('a base stored as a custom-format dump: stored whole, saying why', async () => {
    const base = { setId: F, entry: { ...entry([]), format: 'pg-custom' }, openPart: parts({}) };
    expect(await baseContents(base, new AbortController().signal)).toMatchObject({
      fellBack: `the base set ${F} stores inventario as pg-custom, not as a directory dump`,
      fellBackPhrase: { id: 'fallback.baseFormat' },
    });
  });

  test('a full made before content maps: its data files are hashed', async () => {
    const base = {
      setId: F,
      entry: entry(['pgdir:1.dat', 'pgdir:2.dat']),
      openPart: parts({ 'pgdir:1.dat': 'one', 'pgdir:2.dat': 'two' }),
    };
    const r = await baseContents(base, new AbortController().signal);
    expect('known' in r && Object.fromEntries(r.known)).toEqual({
      [sha('one')]: { set: F, stored: '1.dat' },
      [sha('two')]: { set: F, stored: '2.dat' },
    });
  });

  test('a damaged map: stored whole, saying why', async () => {
    const base = { setId: F, entry: entry(['pgchain']), openPart: parts({ pgchain: '{"version":1,"files":[' }) };
    const r = await baseContents(base, new AbortController().signal);
    expect(r).toMatchObject({
      fellBack: expect.stringMatching(/^the base set .* could not be read \(The content map/),
    });
  });
});

describe('staging a chain set', () => {
  const own = map({
    '30.dat': { sha256: sha('new rows'), bytes: 8, set: null, stored: '30.dat' },
    '31.dat': { sha256: sha('old rows'), bytes: 8, set: F, stored: '12.dat' },
  });
  const req = (fullParts: Record<string, string>, m = own) => ({
    setId: I1,
    entry: entry(['pgchain', 'pgdir:30.dat'], F),
    openPart: parts({ pgchain: encodeChainMap(m), 'pgdir:30.dat': 'new rows' }),
    chain: [{ setId: F, entry: entry(['pgdir:12.dat']), openPart: parts(fullParts) }],
  });

  const read = async (sources: DumpSource[], name: string): Promise<string> =>
    text(sources.find((f) => f.name === name)!.open());

  test('reads each file from the set storing it, with its recorded size', async () => {
    const sources = await chainSources(req({ 'pgdir:12.dat': 'old rows' }));
    expect(sources.map((f) => [f.name, f.rawBytes])).toEqual([
      ['30.dat', 8],
      ['31.dat', 8],
    ]);
    expect(await read(sources, '30.dat')).toBe('new rows');
    expect(await read(sources, '31.dat')).toBe('old rows');
  });

  test('bytes that differ from what the set recorded fail the stream at its end, never ending it cleanly', async () => {
    const sources = await chainSources(req({ 'pgdir:12.dat': 'old rowz' }));
    const stream = sources.find((f) => f.name === '31.dat')!.open();
    let ended = false;
    stream.on('end', () => (ended = true));
    await expect(text(stream)).rejects.toThrow(
      /31\.dat of set 20261102_000000, read from set 20261101_000000, differs from what the set recorded/,
    );
    expect(ended).toBe(false);
    // a size that differs too (the same bytes and one more)
    const longer = await chainSources(req({ 'pgdir:12.dat': 'old rows!' }));
    await expect(read(longer, '31.dat')).rejects.toThrow(/differs from what the set recorded/);
  });

  test('without the chain it applies on: refused, naming how to restore it', async () => {
    await expect(chainSources({ ...req({}), chain: [] })).rejects.toThrow(
      /stores only the tables of inventario that changed since set 20261101_000000/,
    );
  });
});
