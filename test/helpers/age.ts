import { execFileSync } from 'node:child_process';

/** Writes a new age identity to `file` with Debian's `age-keygen` and returns its recipient (age1…). */
export function ageKeygen(file: string): string {
  execFileSync('age-keygen', ['-o', file], { stdio: 'pipe' });
  return execFileSync('age-keygen', ['-y', file], { encoding: 'utf8' }).trim();
}
