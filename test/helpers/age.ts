import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { describeResult, parseJsonOutput, runCli } from './cli.js';
import { demoSetup } from './tmp.js';

/** Writes a new age identity to `file` with Debian's `age-keygen` and returns its recipient (age1…). */
export function ageKeygen(file: string): string {
  execFileSync('age-keygen', ['-o', file], { stdio: 'pipe' });
  return execFileSync('age-keygen', ['-y', file], { encoding: 'utf8' }).trim();
}

/**
 * Adds `encryption` to the config file `configFile`: a new identity `key.txt` in `dir` (ageKeygen) and its recipient;
 * returns both.
 */
export function encryptConfig(configFile: string, dir: string): { recipient: string; keyFile: string } {
  const keyFile = join(dir, 'key.txt');
  const recipient = ageKeygen(keyFile);
  const doc = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(configFile, JSON.stringify({ ...doc, encryption: { recipients: [recipient], identityFile: keyFile } }));
  return { recipient, keyFile };
}

/**
 * An encrypted set (`create --db users`) of the demo database and `folders` folders of 1000 small files each
 * (`uploads/folder-D/an-uploaded-file-I.txt`, holding `file D/I`): the demo and its set's id.
 */
export async function encryptedUploadsSet(folders: number): Promise<{ s: ReturnType<typeof demoSetup>; id: string }> {
  const s = demoSetup({ files: { config: [], application: [{ path: './data/uploads' }] } });
  encryptConfig(s.configFile, s.dir);
  for (let d = 0; d < folders; d++) {
    const folder = join(s.dataDir, 'uploads', `folder-${d}`);
    mkdirSync(folder, { recursive: true });
    for (let i = 0; i < 1000; i++) writeFileSync(join(folder, `an-uploaded-file-${i}.txt`), `file ${d}/${i}\n`);
  }
  const made = await runCli(['create', '--db', 'users', '--json', '--config', s.configFile], { cwd: s.dir });
  expect(made.code, describeResult(made)).toBe(0);
  return { s, id: parseJsonOutput<{ id: string }>(made.stdout).id };
}
