import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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
