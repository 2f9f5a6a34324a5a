import { fileURLToPath } from 'node:url';
import type { ErrorObject } from 'ajv';
import { validate as generatedValidate } from './schema-validator.generated.js';

/** Absolute path of the published JSON Schema (`$schema` in backup_config.json can point at it). */
export const SCHEMA_FILE = fileURLToPath(new URL('../../schema/backup_config.schema.json', import.meta.url));

/**
 * The schema compiled ahead of time by Ajv (scripts/gen-schema-validator.mjs): no command loads Ajv's
 * compiler (about 20 MiB of every process). Fills defaults in place; `errors` after a failed call.
 */
const compiled = generatedValidate as ((doc: unknown) => boolean) & { errors?: ErrorObject[] | null };

/** Validates in place, filling defaults. Returns the problems with JSON paths (`databases[1].path`). */
export function validateAgainstSchema(doc: unknown): { path: string; problem: string }[] {
  // JSON reads 1e400 as Infinity, which passes as an integer: a threshold no disk meets (`minFreeBytes`).
  const huge = unsafeNumbers(doc, '');
  if (huge.length) return huge;
  if (compiled(doc)) return [];
  return dedupe((compiled.errors ?? []).map(describeAjvError));
}

/** Every number in `doc` beyond what a config may mean (not finite, or past 2^53), with its path. */
function unsafeNumbers(doc: unknown, path: string): { path: string; problem: string }[] {
  if (typeof doc === 'number')
    return Number.isFinite(doc) && Math.abs(doc) <= Number.MAX_SAFE_INTEGER
      ? []
      : [{ path, problem: `${String(doc)} is not a number respaldo can use (at most ${Number.MAX_SAFE_INTEGER})` }];
  if (Array.isArray(doc)) return doc.flatMap((v, i) => unsafeNumbers(v, `${path}[${i}]`));
  if (doc && typeof doc === 'object')
    return Object.entries(doc).flatMap(([k, v]) => unsafeNumbers(v, joinPath(path, k)));
  return [];
}

function describeAjvError(e: ErrorObject): { path: string; problem: string } {
  let path = pointerToPath(e.instancePath);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      path = joinPath(path, String(params.missingProperty));
      return { path, problem: 'required' };
    case 'additionalProperties':
      path = joinPath(path, String(params.additionalProperty));
      return { path, problem: 'unknown field (check the spelling)' };
    case 'enum':
      return {
        path,
        problem: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'type':
      return { path, problem: `must be ${String(params.type)}` };
    case 'pattern':
      if (String(params.pattern).startsWith('^SHA256:'))
        return {
          path,
          problem:
            'must be a SHA-256 host key fingerprint: "SHA256:" and 43 base64 characters (as `ssh-keygen -lf` prints it)',
        };
      return {
        path,
        problem: 'invalid value: use letters, digits, _ . - (at most 63 characters, not starting with . or -)',
      };
    default:
      return { path, problem: e.message ?? e.keyword };
  }
}

function pointerToPath(pointer: string): string {
  if (!pointer) return '';
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : joinPath(acc, part)), '');
}

export function joinPath(base: string, key: string): string {
  return base ? `${base}.${key}` : key;
}

function dedupe<T>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((i) => {
    const k = JSON.stringify(i);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
