import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { ageKeygen } from './helpers/age.js';
import { CLI_BIN, collect, describeResult, parseJsonOutput, startNode } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';

/**
 * age-encryption adds about 24 MiB to a process. With X25519 recipients (what `respaldo key generate` and
 * `age-keygen` make) a command that decrypts nothing never loads it: the config's recipients are checked and each
 * file's header made with Node's own crypto (age-x25519.ts). It loaded on every command with `encryption`.
 */
describe('age-encryption loaded only to decrypt', () => {
  it('create, list and verify of a set encrypted to X25519 recipients do not load it; a restore does', async () => {
    const s = demoSetup();
    const key = join(s.dir, 'key.txt');
    writeFileSync(
      s.configFile,
      JSON.stringify({
        ...JSON.parse(readFileSync(s.configFile, 'utf8')),
        encryption: { recipients: [ageKeygen(key)], identityFile: key },
      }),
    );
    // Every module a run resolves whose path is age-encryption's, written at its exit
    const seen = join(s.dir, 'age-loaded.txt');
    const preload = join(s.dir, 'watch-age.mjs');
    writeFileSync(
      preload,
      `import { registerHooks } from 'node:module';\n` +
        `import { writeFileSync } from 'node:fs';\n` +
        `let loaded = false;\n` +
        `registerHooks({ resolve(specifier, context, next) {\n` +
        `  const r = next(specifier, context);\n` +
        `  if (r.url.includes('/node_modules/age-encryption/')) loaded = true;\n` +
        `  return r;\n` +
        `} });\n` +
        `process.on('exit', () => writeFileSync(${JSON.stringify(seen)}, String(loaded)));\n`,
    );
    const run = async (args: string[]) => {
      const r = await collect(
        startNode(['--import', preload, CLI_BIN, ...args, '--config', s.configFile], { cwd: s.dir }),
      );
      expect(r.code, describeResult(r)).toBe(0);
      expect(existsSync(seen)).toBe(true);
      return { stdout: r.stdout, loaded: readFileSync(seen, 'utf8') === 'true' };
    };
    const made = await run(['create', '--json']);
    expect(made.loaded, 'create loaded age-encryption').toBe(false);
    const m = parseJsonOutput<Manifest>(made.stdout);
    expect(m.encryption?.recipients).toHaveLength(1);
    expect((await run(['list'])).loaded, 'list loaded age-encryption').toBe(false);
    expect((await run(['verify', m.id])).loaded, 'verify loaded age-encryption').toBe(false);
    // Decrypting parses the headers with it: the watch sees it loaded
    expect((await run(['restore', m.id, '--files', '--to', join(s.dir, 'back'), '--yes'])).loaded).toBe(true);
  });
});
