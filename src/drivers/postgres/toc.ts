/**
 * Selected-table restores of a pg_dump custom archive, planned from its table of contents.
 *
 * `pg_restore -t` restores a table's definition and data only: no primary key, indexes, defaults,
 * triggers, owned sequences, nor the enum or domain types and functions the table needs. Instead,
 * respaldo reads the TOC with its dependencies (`pg_restore --list --verbose`), picks the selected
 * tables, everything that hangs off them (data, constraints, indexes, triggers, defaults, identity
 * and owned sequences with their values, comments, privileges) and everything they depend on
 * (schemas, types, domains, functions, extensions, sequences), and hands that list to
 * `pg_restore --use-list`. Objects that need a table that is not restored (a foreign key to it, a
 * view over it) are left out and reported. Pure: nothing here does I/O.
 */

/** One line of `pg_restore --list --verbose`. */
export interface TocEntry {
  /** Dump id, the number `--use-list` reads. */
  id: number;
  /** Catalog OID of the object (pg_class OID for relations). */
  oid: number;
  /** Object kind: `TABLE`, `TABLE DATA`, `FK CONSTRAINT`, `SEQUENCE SET`, … */
  desc: string;
  /** The rest of the line: schema (or `-`), tag and owner, separated by spaces. */
  rest: string;
  /** Dump ids this entry depends on. */
  deps: number[];
  /** The line as pg_restore printed it. */
  line: string;
}

/** Kinds that pg_restore prints with spaces in them; others are one word. Longest first. */
const MULTI_WORD_KINDS = [
  'PUBLICATION TABLES IN SCHEMA',
  'TEXT SEARCH CONFIGURATION',
  'TEXT SEARCH DICTIONARY',
  'MATERIALIZED VIEW DATA',
  'FOREIGN DATA WRAPPER',
  'TEXT SEARCH TEMPLATE',
  'TEXT SEARCH PARSER',
  'PROCEDURAL LANGUAGE',
  'SEQUENCE OWNED BY',
  'PUBLICATION TABLE',
  'MATERIALIZED VIEW',
  'OPERATOR FAMILY',
  'OPERATOR CLASS',
  'SECURITY LABEL',
  'BLOB METADATA',
  'FK CONSTRAINT',
  'EVENT TRIGGER',
  'FOREIGN TABLE',
  'ACCESS METHOD',
  'LARGE OBJECT',
  'SEQUENCE SET',
  'ROW SECURITY',
  'TABLE ATTACH',
  'INDEX ATTACH',
  'USER MAPPING',
  'DEFAULT ACL',
  'SHELL TYPE',
  'TABLE DATA',
];

/** Relations: restored only when selected. */
const RELATION_KINDS = new Set(['TABLE', 'VIEW', 'MATERIALIZED VIEW', 'FOREIGN TABLE']);
/** Never part of a selected-table restore. */
const EXCLUDED_KINDS = new Set([
  'DATABASE',
  'BLOB',
  'BLOBS',
  'BLOB METADATA',
  'LARGE OBJECT',
  'DEFAULT ACL',
  'PUBLICATION',
  'PUBLICATION TABLE',
  'PUBLICATION TABLES IN SCHEMA',
  'SUBSCRIPTION',
  'EVENT TRIGGER',
  'MATERIALIZED VIEW DATA',
]);
/** Session settings at the top of every restore. */
const SETTING_KINDS = new Set(['ENCODING', 'STDSTRINGS', 'SEARCHPATH']);
/** Attached to objects already chosen: kept when everything they depend on is kept. */
const ATTACHED_KINDS = new Set(['ACL', 'COMMENT', 'SECURITY LABEL', 'SEQUENCE SET', 'SEQUENCE OWNED BY']);

const ENTRY_RE = /^(\d+); (\d+) (\d+) (.*)$/;
const DEPS_RE = /^;\s*depends on:((?: \d+)*)\s*$/;

const TABLE_DATA_RE = /^(\d+); \d+ (\d+) TABLE DATA /gm;

/**
 * The data file of each table in a directory dump's table of contents (`pg_restore --list` output): `<dump id>.dat` by
 * the table's OID. Read from the text without making an entry of every line: a dump of 5000 tables lists some 40 000,
 * and parseTocList's entries and strings of them, made at the end of a create, were its peak (about 20 MiB more).
 */
export function tableDataFiles(text: string): Map<number, string> {
  const files = new Map<number, string>();
  for (const m of text.matchAll(TABLE_DATA_RE)) files.set(Number(m[2]), `${m[1]}.dat`);
  return files;
}

/** Parses `pg_restore --list --verbose` output. Comment lines other than dependencies are skipped. */
export function parseTocList(text: string): TocEntry[] {
  const entries: TocEntry[] = [];
  for (const line of text.split('\n')) {
    const m = ENTRY_RE.exec(line);
    if (m) {
      const body = m[4]!;
      const desc = MULTI_WORD_KINDS.find((k) => body.startsWith(`${k} `)) ?? body.split(' ')[0]!;
      entries.push({ id: Number(m[1]), oid: Number(m[3]), desc, rest: body.slice(desc.length + 1), deps: [], line });
      continue;
    }
    const d = DEPS_RE.exec(line);
    const last = entries[entries.length - 1];
    if (d && last) last.deps = d[1]!.trim().split(/\s+/).filter(Boolean).map(Number);
  }
  return entries;
}

/** A table to restore: by name, and by OID when the backup recorded it (names can be ambiguous). */
export interface TocTableRef {
  schema: string;
  table: string;
  oid?: number | undefined;
}

export interface TocSelection {
  /** The `--use-list` file: the chosen lines in archive order. */
  list: string;
  /** Dump ids chosen, in archive order. */
  ids: number[];
  /**
   * Objects of the selected tables left out (`what`: kind, schema, name), with the reason: a view over them
   * (`view`), or a foreign key to a table not selected (`needs-table`).
   */
  skipped: { what: string; why: 'view' | 'needs-table' }[];
  /** Parent tables restored too because a selected partition or inheritance child needs them. */
  parents: string[];
  /** Partitions restored with a selected partitioned table (at every level), as schema and name. */
  partitions: TocTableRef[];
  /** The archive's tables that are not restored (a trigger of a restored table may write to one). */
  leftOut: TocTableRef[];
}

/** Why a selection cannot be restored (a table not in the archive, or ambiguous there). */
export class TocSelectionError extends Error {}

function describe(e: TocEntry): string {
  return `${e.desc} ${e.rest.replace(/ \S+$/, '')}`;
}

/** Pure: the `--use-list` selection restoring `tables` with what they need and what hangs off them. */
export function selectTables(entries: readonly TocEntry[], tables: readonly TocTableRef[]): TocSelection {
  const byId = new Map(entries.map((e) => [e.id, e]));
  const selected = new Set<number>();
  /** `schema name` of each selected table, as TOC lines of its constraints, triggers, … begin. */
  const prefixOf = new Map<number, string>();
  for (const t of tables) {
    const candidates = entries.filter(
      (e) =>
        e.desc === 'TABLE' && (t.oid !== undefined ? e.oid === t.oid : e.rest.startsWith(`${t.schema} ${t.table} `)),
    );
    if (candidates.length === 0) throw new TocSelectionError(`table "${t.schema}"."${t.table}" is not in the archive`);
    if (candidates.length > 1)
      throw new TocSelectionError(`table "${t.schema}"."${t.table}" is ambiguous in the archive`);
    selected.add(candidates[0]!.id);
    prefixOf.set(candidates[0]!.id, `${t.schema} ${t.table} `);
  }

  // A partitioned table comes with all its partitions (each attached by a TABLE ATTACH entry).
  const partitions: TocTableRef[] = [];
  for (let changed = true; changed;) {
    changed = false;
    for (const e of entries) {
      if (e.desc !== 'TABLE ATTACH') continue;
      // The entry is tagged with the partition's schema and name; its other table dependency is the parent.
      const name = e.rest.replace(/ \S+$/, '');
      const tables = e.deps.map((d) => byId.get(d)).filter((d): d is TocEntry => d?.desc === 'TABLE');
      const child = tables.find((t) => t.rest.startsWith(`${name} `));
      if (!child || selected.has(child.id) || !tables.some((t) => t !== child && selected.has(t.id))) continue;
      const [schema = '', table = ''] = name.split(' ');
      selected.add(child.id);
      prefixOf.set(child.id, `${name} `);
      partitions.push({ schema, table, oid: child.oid });
      changed = true;
    }
  }

  // Relations an entry needs, looking up through its dependencies (stopping at each relation).
  const relationsAbove = new Map<number, Set<number>>();
  const above = (id: number): Set<number> => {
    const known = relationsAbove.get(id);
    if (known) return known;
    const out = new Set<number>();
    const seen = new Set([id]);
    const stack = [id];
    while (stack.length > 0) {
      for (const dep of byId.get(stack.pop()!)?.deps ?? []) {
        const d = byId.get(dep);
        if (!d || seen.has(dep)) continue;
        seen.add(dep);
        if (RELATION_KINDS.has(d.desc)) out.add(dep);
        else stack.push(dep);
      }
    }
    relationsAbove.set(id, out);
    return out;
  };
  const needsOnlySelected = (id: number) => [...above(id)].every((r) => selected.has(r));

  // A partition or inheritance child needs its parent table: restore the parent's definition too.
  const parents: string[] = [];
  for (let changed = true; changed;) {
    changed = false;
    for (const id of [...selected]) {
      for (const r of above(id)) {
        if (selected.has(r)) continue;
        const parent = byId.get(r)!;
        if (parent.desc !== 'TABLE')
          throw new TocSelectionError(`${describe(byId.get(id)!)} needs ${describe(parent)}, which is not a table`);
        selected.add(r);
        prefixOf.set(r, `${describe(parent).slice('TABLE '.length)} `);
        parents.push(describe(parent));
        changed = true;
      }
    }
  }

  // Down: what hangs off the selected tables (data, keys, indexes, triggers, defaults, identity sequences, …).
  const chosen = new Set(selected);
  const skipped: TocSelection['skipped'] = [];
  for (let changed = true; changed;) {
    changed = false;
    for (const e of entries) {
      if (chosen.has(e.id) || EXCLUDED_KINDS.has(e.desc) || !e.deps.some((d) => chosen.has(d))) continue;
      if (RELATION_KINDS.has(e.desc) || !needsOnlySelected(e.id)) {
        // Reported when it is a view over a selected table or belongs to one (its foreign key); not another table's
        // key.
        const view = RELATION_KINDS.has(e.desc) && e.desc !== 'TABLE';
        const ours = e.deps.some(
          (d) => selected.has(d) && (view || (!RELATION_KINDS.has(e.desc) && e.rest.startsWith(prefixOf.get(d)!))),
        );
        const what = describe(e);
        if (ours && !skipped.some((s) => s.what === what)) skipped.push({ what, why: view ? 'view' : 'needs-table' });
        continue;
      }
      chosen.add(e.id);
      changed = true;
    }
  }
  // Up: everything those need (schemas, types, domains, functions, sequences), and every extension.
  for (const e of entries) if (SETTING_KINDS.has(e.desc) || e.desc === 'EXTENSION') chosen.add(e.id);
  const stack = [...chosen];
  while (stack.length > 0) {
    for (const dep of byId.get(stack.pop()!)?.deps ?? []) {
      const d = byId.get(dep);
      if (!d || chosen.has(dep) || RELATION_KINDS.has(d.desc) || EXCLUDED_KINDS.has(d.desc)) continue;
      chosen.add(dep);
      stack.push(dep);
    }
  }
  // Attached to what is chosen: privileges, comments, sequence values.
  for (let changed = true; changed;) {
    changed = false;
    for (const e of entries) {
      if (chosen.has(e.id) || !ATTACHED_KINDS.has(e.desc) || e.deps.length === 0 || !e.deps.every((d) => chosen.has(d)))
        continue;
      chosen.add(e.id);
      changed = true;
    }
  }
  const picked = entries.filter((e) => chosen.has(e.id));
  return {
    list: picked.map((e) => e.line).join('\n') + '\n',
    ids: picked.map((e) => e.id),
    skipped,
    parents,
    partitions,
    leftOut: entries
      .filter((e) => e.desc === 'TABLE' && !selected.has(e.id))
      .map((e) => {
        const [schema = '', table = ''] = e.rest.split(' ');
        return { schema, table, oid: e.oid };
      }),
  };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Pure: which of `leftOut` a function's source names (as `schema.table`, or as `table` when no restored table has
 * that name), so a trigger writing to a table that is not restored can be told. A name in a string or a comment
 * counts too: it is a warning, not a refusal.
 */
export function tablesNamedIn(
  source: string,
  leftOut: readonly TocTableRef[],
  restored: readonly TocTableRef[],
): TocTableRef[] {
  const word = (name: string) => `(?:"${escapeRe(name)}"|${escapeRe(name)}(?![\\w$]))`;
  return leftOut.filter((t) => {
    const qualified = new RegExp(`(?<![\\w$"])${word(t.schema)}\\s*\\.\\s*${word(t.table)}`, 'i');
    if (qualified.test(source)) return true;
    if (restored.some((r) => r.table.toLowerCase() === t.table.toLowerCase())) return false;
    return new RegExp(`(?<![\\w$".])${word(t.table)}`, 'i').test(source);
  });
}
