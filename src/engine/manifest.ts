import { readFileSync } from 'node:fs';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { VerifyError } from '../core/errors.js';
import type { Manifest } from '../core/types.js';

export const MANIFEST_NAME = 'manifest.json';

/**
 * Whether a path stored in a manifest is a plain relative path that stays inside its root:
 * no absolute paths, no `..`, no NUL, no backslashes, no empty segments.
 */
export function isSafeRelative(p: string): boolean {
  if (!p || p.includes('\0') || p.includes('\\') || isAbsolute(p) || /^[A-Za-z]:/.test(p)) return false;
  const parts = p.split('/');
  if (parts.some((s) => s === '' || s === '.' || s === '..')) return false;
  return !normalize(p).startsWith('..' + sep);
}

/** Every stored path of a manifest (database files, extras, files). */
export function storedPaths(m: Manifest): string[] {
  const out: string[] = [];
  for (const d of m.databases) {
    if (d.file) out.push(d.file);
    for (const x of d.extras ?? []) out.push(x.file);
  }
  for (const f of m.files) if (f.stored) out.push(f.stored);
  return out;
}

/**
 * Reads and checks a set's manifest: JSON, schema version, and that every stored path and every
 * restorable relative path is safe. A manifest that fails is reported as a verify failure.
 */
export function readManifestFile(setDir: string): Manifest {
  const file = join(setDir, MANIFEST_NAME);
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  } catch (err) {
    throw new VerifyError(`${file}: unreadable manifest (${(err as Error).message})`);
  }
  if (m === null || typeof m !== 'object' || m.schemaVersion !== 1 || !Array.isArray(m.databases) || !Array.isArray(m.files) || typeof m.id !== 'string') {
    throw new VerifyError(`${file}: not a respaldo manifest (schemaVersion 1 expected)`, 'The set may come from a newer respaldo version, or the file was damaged.');
  }
  for (const p of storedPaths(m)) {
    if (!isSafeRelative(p)) throw new VerifyError(`${file}: unsafe stored path ${JSON.stringify(p)}`, 'This manifest was tampered with; do not restore from it.');
  }
  for (const f of m.files) {
    if (!isSafeRelative(f.relative)) throw new VerifyError(`${file}: unsafe file path ${JSON.stringify(f.relative)}`, 'This manifest was tampered with; do not restore from it.');
  }
  return m;
}
