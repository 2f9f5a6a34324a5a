/**
 * The menu's restore of some of a set's files lists what the set stores below the path typed, one level at a time,
 * and Tab completes the path as a shell does: the pure listing and completion, as tables.
 */
import { describe, expect, it } from 'vitest';
import { completedPath, pathChoices, typedChoices } from '../src/engine/stored-path-choices.js';

const file = (p: string) => {
  const [group, ...rest] = p.split('/');
  return { group: group as 'config' | 'application', relative: rest.join('/') };
};
const FILES = [
  'config/app.conf',
  'config/app.key',
  'application/uploads/2026/a.pdf',
  'application/uploads/2026/b.pdf',
  'application/uploads/2025/c.pdf',
  'application/app.js',
  'application/apps/x.js',
].map(file);
const FOLDERS = ['application/uploads', 'application/uploads/2026', 'application/empty'].map(file);

const listed = (typed: string, limit = 50) => {
  const l = pathChoices(FILES, FOLDERS, typed, limit);
  return { ...l, choices: l.choices.map((c) => `${c.path}${c.folder ? ` (${c.files})` : ''}`) };
};

describe('pathChoices: what is stored below the path typed, one level down', () => {
  // matched: the files whose path begins so; chosen: those a restore of that path takes (all when nothing is typed).
  it.each([
    ['', ['application/ (5)', 'config/ (2)'], 7, 7],
    ['c', ['config/ (2)'], 2, 0],
    ['config', ['config/ (2)'], 2, 2],
    ['config/', ['config/app.conf', 'config/app.key'], 2, 2],
    ['./config/app.c', ['config/app.conf'], 1, 0],
    ['config/app.conf', ['config/app.conf'], 1, 1],
    [
      'application/',
      ['application/app.js', 'application/apps/ (1)', 'application/empty/ (0)', 'application/uploads/ (3)'],
      5,
      5,
    ],
    ['application/app', ['application/app.js', 'application/apps/ (1)'], 2, 0],
    ['application/uploads/', ['application/uploads/2025/ (1)', 'application/uploads/2026/ (2)'], 3, 3],
    ['application/uploads/2026/a.pdf', ['application/uploads/2026/a.pdf'], 1, 1],
    ['nothing/here', [], 0, 0],
  ])('typed %j: %j, %d file(s) begin so, %d taken', (typed, choices, matched, chosen) => {
    expect(listed(typed)).toEqual({ typed, choices, more: 0, matched, chosen });
  });

  it('keeps the first `limit` names and counts the others; every file there is counted', () => {
    expect(listed('application/', 2)).toEqual({
      typed: 'application/',
      choices: ['application/app.js', 'application/apps/ (1)'],
      more: 2,
      matched: 5,
      chosen: 5,
    });
  });
});

describe('completedPath: what Tab completes the path to', () => {
  it.each([
    ['', ''], // two groups: nothing in common
    ['c', 'config/'], // one folder: its name and slash, so that the next Tab lists inside it
    ['config/', 'config/app.'], // the two files' common start
    ['application/app', 'application/app'], // app.js and apps/ share nothing more
    ['application/uploads/2', 'application/uploads/202'],
    ['application/uploads/2026/a', 'application/uploads/2026/a.pdf'],
    ['nothing', 'nothing'],
  ])('%j → %j', (typed, completed) => {
    expect(completedPath(typed, pathChoices(FILES, FOLDERS, typed, 50))).toBe(completed);
  });

  it('completes nothing from a listing cut at its limit (a name past it may differ)', () => {
    expect(completedPath('config/', pathChoices(FILES, FOLDERS, 'config/', 1))).toBe('config/');
  });
});

describe('typedChoices: what the last listing says of the path typed since', () => {
  const at = (typed: string, limit = 50) => pathChoices(FILES, FOLDERS, typed, limit);
  const said = (listedAt: string, text: string, limit = 50) => {
    const r = typedChoices(at(listedAt, limit), text);
    return r.current ? { shown: r.shown.map((c) => c.path), chosen: r.chosen } : null;
  };
  it.each([
    // The path listed itself: what the listing counted.
    ['', '', { shown: ['application/', 'config/'], chosen: 7 }],
    ['config/', 'config/', { shown: ['config/app.conf', 'config/app.key'], chosen: 2 }],
    // Typed on within the level listed: the names it still begins; a name it is: a file 1, a folder its files.
    ['config/', 'config/app.k', { shown: ['config/app.key'], chosen: 0 }],
    ['config/', 'config/app.key', { shown: ['config/app.key'], chosen: 1 }],
    ['application/', 'application/uploads/', { shown: ['application/uploads/'], chosen: 3 }],
    ['', 'conf', { shown: ['config/'], chosen: 0 }],
    ['', 'x', { shown: [], chosen: 0 }],
    // Past a folder listed, or away from the path listed: that listing cannot tell.
    ['', 'config/app.key', null],
    ['application/', 'application/uploads/2026/a.pdf', null],
    ['config/', 'application/', null],
    ['config/', '', null],
  ])('listed at %j, typed %j: %j', (listedAt, text, expected) => {
    expect(said(listedAt, text)).toEqual(expected);
  });

  it('nothing listed, or a listing cut at its limit typed on from: unknown; `./` in front is the same path', () => {
    expect(typedChoices(null, 'config/')).toEqual({ current: null, shown: [], chosen: 0 });
    expect(said('application/', 'application/app.js', 2)).toBeNull();
    expect(said('application/', 'application/', 2)).toEqual({
      shown: ['application/app.js', 'application/apps/'],
      chosen: 5,
    });
    expect(said('./config/', 'config/app.conf')).toEqual({ shown: ['config/app.conf'], chosen: 1 });
  });
});
