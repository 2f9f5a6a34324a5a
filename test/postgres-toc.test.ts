import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  parseTocList,
  selectTables,
  tableDataFiles,
  TocSelectionError,
  type TocEntry,
  type TocTableRef,
} from '../src/drivers/postgres/toc.js';

const toc = (name: string) => parseTocList(readFileSync(join(__dirname, 'fixtures/pg-toc', name), 'utf8'));
const chinook = toc('chinook.toc');
const tricky = toc('tricky.toc');

/** The chosen entries as `DESC rest-without-owner` lines, for readable expectations. */
function picked(entries: readonly TocEntry[], tables: TocTableRef[]): string[] {
  const ids = new Set(selectTables(entries, tables).ids);
  return entries.filter((e) => ids.has(e.id)).map((e) => `${e.desc} ${e.rest.replace(/ \S+$/, '').trim()}`);
}

const SETTINGS = ['ENCODING - ENCODING', 'STDSTRINGS - STDSTRINGS', 'SEARCHPATH - SEARCHPATH'];

describe('parseTocList', () => {
  test('entries with kinds, OIDs and dependencies; comment lines skipped', () => {
    expect(chinook).toHaveLength(59);
    expect(tricky.find((e) => e.id === 3290)).toEqual({
      id: 3290,
      oid: 16459,
      desc: 'TRIGGER',
      rest: 'public people people_audit app_owner',
      deps: [218, 264],
      line: '3290; 2620 16459 TRIGGER public people people_audit app_owner',
    });
    expect(tricky.find((e) => e.id === 3444)).toMatchObject({ desc: 'MATERIALIZED VIEW DATA', deps: [227, 3449] });
    expect(tricky.find((e) => e.id === 3455)).toMatchObject({ desc: 'SEQUENCE OWNED BY', oid: 0, deps: [219] });
    expect(tricky.find((e) => e.id === 225)).toMatchObject({
      desc: 'TABLE',
      oid: 16473,
      rest: 'Ünïcode "esquema" x tabla con espacios y "comillas" ñ postgres',
      deps: [7],
    });
    expect(new Set(chinook.map((e) => e.desc))).toEqual(
      new Set([
        'ENCODING',
        'STDSTRINGS',
        'SEARCHPATH',
        'DATABASE',
        'TABLE',
        'TABLE DATA',
        'CONSTRAINT',
        'INDEX',
        'FK CONSTRAINT',
      ]),
    );
  });

  test('output without --verbose has no dependencies; garbage is ignored', () => {
    expect(parseTocList('; hello\n12; 1259 99 TABLE public t me\nnot a line\n')).toEqual([
      { id: 12, oid: 99, desc: 'TABLE', rest: 'public t me', deps: [], line: '12; 1259 99 TABLE public t me' },
    ]);
  });
});

describe('tableDataFiles', () => {
  test.each(['chinook.toc', 'tricky.toc'])(
    '%s: the data file of each table by its OID, as parseTocList finds them',
    (name) => {
      const text = readFileSync(join(__dirname, 'fixtures/pg-toc', name), 'utf8');
      const parsed = parseTocList(text).filter((e) => e.desc === 'TABLE DATA');
      expect(parsed.length).toBeGreaterThan(4);
      expect(tableDataFiles(text)).toEqual(new Map(parsed.map((e) => [e.oid, `${e.id}.dat`])));
    },
  );
});

describe('selectTables', () => {
  test('two tables referencing each other: keys, index and the foreign key between them', () => {
    expect(
      picked(chinook, [
        { schema: 'public', table: 'album' },
        { schema: 'public', table: 'artist' },
      ]),
    ).toEqual([
      ...SETTINGS,
      'TABLE public album',
      'TABLE public artist',
      'TABLE DATA public album',
      'TABLE DATA public artist',
      'CONSTRAINT public album album_pkey',
      'CONSTRAINT public artist artist_pkey',
      'INDEX public album_artist_id_idx',
      'FK CONSTRAINT public album album_artist_id_fkey',
    ]);
    expect(
      selectTables(chinook, [
        { schema: 'public', table: 'album' },
        { schema: 'public', table: 'artist' },
      ]).skipped,
    ).toEqual([]);
  });

  test('a table alone: its foreign keys to tables left out are reported, other tables’ keys to it are not', () => {
    const sel = selectTables(chinook, [{ schema: 'public', table: 'track' }]);
    expect(picked(chinook, [{ schema: 'public', table: 'track' }])).toEqual([
      ...SETTINGS,
      'TABLE public track',
      'TABLE DATA public track',
      'CONSTRAINT public track track_pkey',
      'INDEX public track_album_id_idx',
      'INDEX public track_genre_id_idx',
      'INDEX public track_media_type_id_idx',
    ]);
    expect(sel.skipped).toEqual(
      ['album', 'genre', 'media_type'].map((t) => ({
        what: `FK CONSTRAINT public track track_${t}_id_fkey`,
        why: 'needs-table',
      })),
    );
    expect(sel.list.split('\n').filter(Boolean)).toEqual(sel.ids.map((id) => chinook.find((e) => e.id === id)!.line));
  });

  test('what a table needs comes along: enum, domain, extension, sequences with values, identity, trigger function, comment, grant', () => {
    const sel = selectTables(tricky, [{ schema: 'public', table: 'people' }]);
    expect(picked(tricky, [{ schema: 'public', table: 'people' }])).toEqual([
      ...SETTINGS,
      'EXTENSION - pgcrypto',
      'COMMENT - EXTENSION pgcrypto',
      'TYPE public mood',
      'DOMAIN public positive_int',
      'FUNCTION public audit_people()',
      'SEQUENCE public custom_seq',
      'TABLE public people',
      'COMMENT public TABLE people',
      'ACL public TABLE people',
      'SEQUENCE public people_id_seq',
      'TABLE DATA public people',
      'SEQUENCE SET public custom_seq',
      'SEQUENCE SET public people_id_seq',
      'CONSTRAINT public people people_pkey',
      'TRIGGER public people people_audit',
    ]);
    expect(sel.skipped).toEqual([
      { what: 'VIEW public happy_people', why: 'view' },
      { what: 'MATERIALIZED VIEW public mood_counts', why: 'view' },
    ]);
    expect(sel.parents).toEqual([]);
  });

  test('a partition brings its parent table (definition, sequence, default), not its sibling', () => {
    const sel = selectTables(tricky, [{ schema: 'public', table: 'measurements_2024' }]);
    expect(sel.parents).toEqual(['TABLE public measurements']);
    expect(picked(tricky, [{ schema: 'public', table: 'measurements_2024' }])).toEqual([
      ...SETTINGS,
      'EXTENSION - pgcrypto',
      'COMMENT - EXTENSION pgcrypto',
      'TABLE public measurements',
      'SEQUENCE public measurements_id_seq',
      'SEQUENCE OWNED BY public measurements_id_seq',
      'TABLE public measurements_2024',
      'TABLE ATTACH public measurements_2024',
      'DEFAULT public measurements id',
      'TABLE DATA public measurements_2024',
      'SEQUENCE SET public measurements_id_seq',
    ]);
    expect(sel.skipped).toEqual([]);
  });

  test('names with spaces, quotes and non-ASCII letters; the OID wins over the name', () => {
    const odd = { schema: 'Ünïcode "esquema" x', table: 'tabla con espacios y "comillas" ñ' };
    expect(picked(tricky, [odd])).toEqual([
      ...SETTINGS,
      'SCHEMA - Ünïcode "esquema" x',
      'EXTENSION - pgcrypto',
      'COMMENT - EXTENSION pgcrypto',
      'TABLE Ünïcode "esquema" x tabla con espacios y "comillas" ñ',
      'TABLE DATA Ünïcode "esquema" x tabla con espacios y "comillas" ñ',
      'CONSTRAINT Ünïcode "esquema" x tabla con espacios y "comillas" ñ tabla con espacios y "comillas" ñ_pkey',
    ]);
    expect(selectTables(tricky, [{ schema: 'stale', table: 'name', oid: 16438 }]).ids).toContain(218);
  });

  test.each<[string, TocTableRef, RegExp]>([
    ['not in the archive', { schema: 'public', table: 'nope' }, /"public"."nope" is not in the archive/],
    ['a view is not a table', { schema: 'public', table: 'happy_people' }, /not in the archive/],
    ['an OID that is not there', { schema: 'public', table: 'people', oid: 1 }, /not in the archive/],
  ])('refused: %s', (_label, ref, message) => {
    expect(() => selectTables(tricky, [ref])).toThrow(TocSelectionError);
    expect(() => selectTables(tricky, [ref])).toThrow(message);
  });

  test('large objects, the database entry and other tables never come along', () => {
    const all = tricky.filter((e) => e.desc === 'TABLE').map((e) => ({ schema: '', table: '', oid: e.oid }));
    const ids = new Set(selectTables(tricky, all).ids);
    const left = tricky.filter((e) => !ids.has(e.id)).map((e) => e.desc);
    expect(left.sort()).toEqual([
      'BLOB',
      'BLOB',
      'BLOBS',
      'DATABASE',
      'MATERIALIZED VIEW',
      'MATERIALIZED VIEW DATA',
      'VIEW',
    ]);
  });
});
