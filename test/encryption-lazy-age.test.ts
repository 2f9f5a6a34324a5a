import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../src/core/types.js';
import { ageKeygen } from './helpers/age.js';
import { CLI_BIN, collect, describeResult, parseJsonOutput, startNode } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';

/**
 * age-encryption adds about 24 MiB to a process. With X25519 recipients (what `respaldo key generate` and
 * `age-keygen` make) no command loads it: the config's recipients are checked and each file's header made with Node's
 * own crypto (age-x25519.ts), and read the same way (age-header.ts). It loaded on every command with `encryption`,
 * then on every one that decrypted.
 */
describe('age-encryption loaded only to decrypt', () => {
  it('create, list, verify and restore of a set encrypted to X25519 recipients do not load it', async () => {
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
    // Decrypting reads the headers without it too (age-header.ts): a restore and a verify that decrypts do not load it
    const restored = await run(['restore', m.id, '--files', '--to', join(s.dir, 'back'), '--yes']);
    expect(restored.loaded, 'restore loaded age-encryption').toBe(false);
    const env = readdirSync(join(s.dir, 'back'), { recursive: true }).find((p) => String(p).endsWith('/.env'));
    expect(env, 'the restore wrote .env').toBeDefined();
    expect(readFileSync(join(s.dir, 'back', String(env)), 'utf8')).toBe(readFileSync(join(s.appDir, '.env'), 'utf8'));
    expect((await run(['verify', m.id, '--read-data'])).loaded, 'verify --read-data loaded age-encryption').toBe(false);
  });
});
