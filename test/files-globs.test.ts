/**
 * include/exclude patterns of an application folder read as in .gitignore: a pattern without a slash (but a trailing
 * one) matches the name at any depth, one with a slash is anchored to the folder root, a trailing slash means folders.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { globMatcher } from '../src/engine/files.js';
import { describeResult, parseJsonOutput, runCli } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';

describe('globMatcher', () => {
  it.each([
    ['*.log', 'server.log', false, true],
    ['*.log', 'a/b/debug.log', false, true],
    ['*.log', 'a/log.txt', false, false],
    ['.env', 'svc/.env', false, true],
    ['.env', 'svc/.env.example', false, false],
    ['node_modules', 'web/node_modules', true, true],
    ['node_modules/', 'web/node_modules', true, true],
    ['node_modules/', 'web/node_modules', false, false],
    ['node_modules/', 'web/node_modules/x/index.js', false, true],
    ['node_modules/**', 'node_modules/x/index.js', false, true],
    ['node_modules/**', 'web/node_modules/x/index.js', false, false],
    ['tmp/**', 'tmp', true, true],
    ['tmp/**', 'a/tmp/x', false, false],
    ['/build', 'build', true, true],
    ['/build', 'a/build', true, false],
    ['config/*.ini', 'config/app.ini', false, true],
    ['config/*.ini', 'x/config/app.ini', false, false],
    ['**/cache/', 'a/b/cache', true, true],
    ['x*', 'tmp', true, false],
    ['*', 'line\nbreak', false, true],
    ['**', 'a/b/c', false, true],
  ])('%j against %j (folder: %s) is %s', (pattern, rel, isDir, want) => {
    expect(globMatcher([pattern])(rel, isDir)).toBe(want);
  });

  it('a file is matched through a folder that matches (an include of a folder takes what it holds)', () => {
    expect(globMatcher(['templates/'])('templates/mail/x.html', false)).toBe(true);
    expect(globMatcher(['templates/'])('x.html', false)).toBe(false);
    expect(globMatcher([])('a', false)).toBe(false);
  });
});

describe('the shipped excludes in a real run', () => {
  it('leave out nested .env and *.log files and node_modules folders; include patterns reach subfolders', async () => {
    const s = demoSetup((c) => ({
      ...c,
      files: {
        config: [],
        application: [
          { path: './data/app', include: ['**'], exclude: ['.env', '*.log', 'tmp/**', 'node_modules/'] },
          { path: './data/web', include: ['*.html'], exclude: [] },
        ],
      },
    }));
    const put = (rel: string) => {
      mkdirSync(dirname(join(s.dataDir, rel)), { recursive: true });
      writeFileSync(join(s.dataDir, rel), `${rel}\n`);
    };
    for (const rel of [
      'app/svc/.env',
      'app/svc/logs/debug.log',
      'app/svc/node_modules/lib/index.js',
      'app/node_modules/lib/index.js',
      'app/tmp/cache.bin',
      'app/svc/tmp/kept.txt',
      'app/svc/main.py',
      'web/index.html',
      'web/pages/about.html',
      'web/pages/about.css',
    ])
      put(rel);

    const r = await runCli(['create', '--db', 'users', '--json', '--config', s.configFile], { cwd: s.dir });
    expect(r.code, describeResult(r)).toBe(0);
    const m = parseJsonOutput<Manifest>(r.stdout);
    expect(m.files.map((f) => f.relative).sort()).toEqual(
      [
        'app/config/app.ini',
        'app/requirements.txt',
        'app/settings.json',
        'app/svc/main.py',
        'app/svc/tmp/kept.txt',
        'app/templates/factura.html',
        'web/index.html',
        'web/pages/about.html',
      ].sort(),
    );
  }, 120_000);
});
