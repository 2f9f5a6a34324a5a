/**
 * The menu's restore of some of a set's files lists what the set stores below the path typed, one level at a time,
 * and Tab completes the path as a shell does: the pure listing and completion, as tables.
 */
import { describe, expect, it } from 'vitest';
import { completedPath, pathChoices } from '../src/engine/stored-path-choices.js';

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
