import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ErrorObject } from 'ajv';
import { english, phrase, type Phrase } from '../core/phrases.js';
import { validate as generatedValidate } from './schema-validator.generated.js';
import { editDistance } from '../core/edit-distance.js';

/** Absolute path of the published JSON Schema (`$schema` in backup_config.json can point at it). */
export const SCHEMA_FILE = fileURLToPath(new URL('../../schema/backup_config.schema.json', import.meta.url));

/**
 * The schema compiled ahead of time by Ajv (scripts/gen-schema-validator.mjs): no command loads Ajv's
 * compiler (about 20 MiB of every process). Fills defaults in place; `errors` after a failed call.
 */
const compiled = generatedValidate as ((doc: unknown) => boolean) & { errors?: ErrorObject[] | null };

/** A problem of the config against the schema, in the operator's words: the field's path, what, and what to do. */
export interface SchemaProblem {
  /** JSON path of the field (`databases[1].engine`); '' for the document itself. */
  path: string;
  problem: string;
  hint: string;
  phrase: Phrase;
  hintPhrase: Phrase;
}

/** Validates in place, filling defaults. Returns the problems with JSON paths (`databases[1].path`). */
export function validateAgainstSchema(doc: unknown): SchemaProblem[] {
  // JSON reads 1e400 as Infinity, which passes as an integer: a threshold no disk meets (`minFreeBytes`).
  const huge = unsafeNumbers(doc, '');
  if (huge.length) return huge;
  if (compiled(doc)) return [];
  const problems = (compiled.errors ?? []).flatMap((e) => describeAjvError(e, doc));
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.path}\0${p.problem}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function problemOf(path: string, said: Phrase, hint: Phrase): SchemaProblem {
  return { path, problem: english(said), hint: english(hint), phrase: said, hintPhrase: hint };
}

/** Every number in `doc` beyond what a config may mean (not finite, or past 2^53), with its path. */
function unsafeNumbers(doc: unknown, path: string): SchemaProblem[] {
  if (typeof doc === 'number')
    return Number.isFinite(doc) && Math.abs(doc) <= Number.MAX_SAFE_INTEGER
      ? []
      : [
          problemOf(
            path,
            phrase('schema.other', {
              text: `${String(doc)} is not a number respaldo can use (at most ${Number.MAX_SAFE_INTEGER})`,
            }),
            phrase('schema.rangeHint', { min: '0', max: String(Number.MAX_SAFE_INTEGER) }),
          ),
        ];
  if (Array.isArray(doc)) return doc.flatMap((v, i) => unsafeNumbers(v, `${path}[${i}]`));
  if (doc && typeof doc === 'object')
    return Object.entries(doc).flatMap(([k, v]) => unsafeNumbers(v, joinPath(path, k)));
  return [];
}

/** The value at JSON pointer `pointer` in `doc` (undefined when there is none). */
function valueAt(doc: unknown, pointer: string): unknown {
  let v = doc;
  for (const part of pointer.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    v = v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  }
  return v;
}

/** `found` and `foundKind` of a value, for the phrases: JSON text (cut at 60 characters) and its JSON type. */
function found(v: unknown): { found: string; foundKind: string } {
  const kind = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
  const text = JSON.stringify(v) ?? String(v);
  return { found: text.length > 60 ? `${text.slice(0, 57)}…"` : text, foundKind: kind };
}

let schemaDoc: unknown;
/** The schema node at `ref` (`#/properties/databases/items`), read from the published schema on first use. */
function schemaAt(ref: string): Record<string, unknown> | undefined {
  try {
    schemaDoc ??= JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'));
  } catch {
    return undefined;
  }
  const node = valueAt(schemaDoc, ref.replace(/^#/, ''));
  return node && typeof node === 'object' ? (node as Record<string, unknown>) : undefined;
}

/** The known field closest to `name` (another case, or one or two letters off), else ''. */
function nearest(name: string, known: string[]): string {
  const lower = name.toLowerCase();
  const scored = known.map((k) => ({ k, d: editDistance(lower, k.toLowerCase()) })).sort((a, b) => a.d - b.d);
  const best = scored[0];
  return best && best.d <= Math.min(2, Math.floor(name.length / 3)) ? best.k : '';
}

/**
 * What an object expected in place of another value holds, for its hint: its required fields (`fields`), the others
 * (`optional`), and, when a text was written where an object of one required text field belongs (a folder's path
 * instead of `{ "path": … }`), that object made of it (`example`).
 */
function objectFields(own: Record<string, unknown> | undefined, value: unknown): Record<string, string> {
  const properties = (own?.['properties'] ?? {}) as Record<string, { type?: unknown }>;
  const required = Array.isArray(own?.['required']) ? (own['required'] as string[]) : [];
  const optional = Object.keys(properties).filter((k) => !required.includes(k));
  const [only] = required;
  const example =
    required.length === 1 && only && typeof value === 'string' && properties[only]?.type === 'string'
      ? JSON.stringify({ [only]: value })
      : '';
  return { fields: quoted(required), optional: quoted(optional), example };
}

const quoted = (values: unknown[]) => values.map((v) => JSON.stringify(v)).join(', ');

function describeAjvError(e: ErrorObject, doc: unknown): SchemaProblem[] {
  const path = pointerToPath(e.instancePath);
  const params = e.params as Record<string, unknown>;
  const value = valueAt(doc, e.instancePath);
  const parentSchema = () => schemaAt(e.schemaPath.replace(/\/[^/]+$/, ''));
  switch (e.keyword) {
    case 'required': {
      const field = String(params.missingProperty);
      return [
        problemOf(
          joinPath(path, field),
          phrase('schema.required', { field, parent: path }),
          phrase('schema.requiredHint', { field, parent: path }),
        ),
      ];
    }
    case 'additionalProperties': {
      const field = String(params.additionalProperty);
      const known = Object.keys((parentSchema()?.properties as object | undefined) ?? {});
      const near = nearest(field, known);
      return [
        problemOf(
          joinPath(path, field),
          phrase('schema.unknownField', { near }),
          phrase('schema.unknownFieldHint', { near, known: known.join(', ') }),
        ),
      ];
    }
    case 'enum': {
      const allowed = quoted(params.allowedValues as unknown[]);
      return [
        problemOf(path, phrase('schema.enum', { ...found(value), allowed }), phrase('schema.enumHint', { allowed })),
      ];
    }
    case 'discriminator': {
      // notifications[i].type missing or not one of the channels: said as the enum it is.
      const tag = String(params.tag);
      const allowed = quoted(
        (schemaAt(e.schemaPath.replace(/\/discriminator$/, ''))?.properties as never)?.[tag]?.['enum'] ?? [],
      );
      const at = joinPath(path, tag);
      const v = valueAt(doc, `${e.instancePath}/${tag}`);
      if (v === undefined)
        return [
          problemOf(
            at,
            phrase('schema.required', { field: tag, parent: path }),
            phrase('schema.requiredHint', { field: tag, parent: path }),
          ),
        ];
      return [problemOf(at, phrase('schema.enum', { ...found(v), allowed }), phrase('schema.enumHint', { allowed }))];
    }
    case 'type': {
      const type = Array.isArray(params.type) ? params.type.join(',') : String(params.type);
      const numeric = typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim()) && /integer|number/.test(type);
      const boolish = typeof value === 'string' && /^(true|false)$/.test(value.trim()) && type === 'boolean';
      const unquoted = numeric || boolish ? (value as string).trim() : '';
      return [
        problemOf(
          path,
          phrase('schema.type', { ...found(value), type }),
          phrase('schema.typeHint', {
            type,
            unquoted,
            ...(type === 'object' ? objectFields(parentSchema(), value) : {}),
          }),
        ),
      ];
    }
    case 'pattern':
      if (String(params.pattern).startsWith('^SHA256:'))
        return [problemOf(path, phrase('schema.hostKey', found(value)), phrase('schema.hostKeyHint'))];
      return [problemOf(path, phrase('schema.name', found(value)), phrase('schema.nameHint'))];
    case 'minLength':
      return [problemOf(path, phrase('schema.empty', { limit: String(params.limit) }), phrase('schema.emptyHint'))];
    case 'minimum':
    case 'maximum': {
      const own = parentSchema();
      const min = own?.minimum === undefined ? '' : String(own.minimum);
      const max = own?.maximum === undefined ? '' : String(own.maximum);
      return [
        problemOf(
          path,
          phrase(e.keyword === 'minimum' ? 'schema.minimum' : 'schema.maximum', {
            ...found(value),
            limit: String(params.limit),
          }),
          phrase('schema.rangeHint', { min, max }),
        ),
      ];
    }
    case 'minItems': {
      const limit = String(params.limit);
      const count = String(Array.isArray(value) ? value.length : 0);
      return [problemOf(path, phrase('schema.minItems', { count, limit }), phrase('schema.minItemsHint', { limit }))];
    }
    case 'uniqueItems': {
      const i = Number(params.i);
      const item = Array.isArray(value) ? value[i] : undefined;
      return [
        problemOf(
          path,
          phrase('schema.unique', { i: String(params.i), j: String(params.j), found: found(item).found }),
          phrase('schema.uniqueHint'),
        ),
      ];
    }
    case 'minProperties':
      return [
        problemOf(
          path,
          phrase('schema.minProperties', { limit: String(params.limit) }),
          phrase('schema.minPropertiesHint'),
        ),
      ];
    // A branch of notifications' oneOf failing also fails the oneOf: its own error says which field.
    case 'oneOf':
    case 'const':
      return [];
    default:
      return [problemOf(path, phrase('schema.other', { text: e.message ?? e.keyword }), phrase('config.fixHint'))];
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
