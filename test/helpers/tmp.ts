import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
// @ts-expect-error: plain ESM script without type declarations
import { createDemo as createDemoUntyped } from '../../scripts/demo-data.mjs';

const created: string[] = [];

/**
 * A fresh temp folder (`mkdtemp` under os.tmpdir()), removed after the current test.
 * Set RESPALDO_KEEP_TMP=1 to keep them for inspection.
 */
export function makeTmpDir(prefix = 'respaldo-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** Removes every folder made by makeTmpDir so far (registered as an afterEach hook). */
export function removeTmpDirs(): void {
  if (process.env.RESPALDO_KEEP_TMP) {
    created.length = 0;
    return;
  }
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

afterEach(removeTmpDirs);

const runDemoScript = createDemoUntyped as (d: string, o: { scale?: number }) => void;
const DEMO_ENTRIES = ['users.db', 'inventario.db', 'auditoria.db', 'app'];
/** By scale: a folder the demo script filled, made once per test process, removed when it exits. */
const demoTemplates = new Map<number, string>();

/**
 * Creates the demo databases (users.db, inventario.db, auditoria.db) and app/ folder in `dir`. The script is
 * deterministic (the same rows every run) and takes about a second (200 scrypt hashes, SQLite commits), so a
 * process runs it once per scale and copies that output into every further fresh folder; a folder already
 * holding part of the demo gets the script itself (it only fills in what is missing).
 */
export function createDemo(dir: string, opts: { scale?: number } = {}): void {
  const scale = opts.scale ?? 1;
  if (DEMO_ENTRIES.some((name) => existsSync(join(dir, name)))) return runDemoScript(dir, { scale });
  let template = demoTemplates.get(scale);
  if (!template) {
    if (demoTemplates.size === 0)
      process.once('exit', () => {
        for (const t of demoTemplates.values()) rmSync(t, { recursive: true, force: true });
      });
    // Inside the run's folder (run-dir.ts), removed when the run ends even when this process is ended without `exit`.
    template = mkdtempSync(join(process.env['RESPALDO_TEST_RUN_DIR'] ?? tmpdir(), 'respaldo-demo-template-'));
    demoTemplates.set(scale, template);
    try {
      runDemoScript(template, { scale });
    } catch (err) {
      demoTemplates.delete(scale);
      rmSync(template, { recursive: true, force: true });
      throw err;
    }
  }
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(template)) cpSync(join(template, name), join(dir, name), { recursive: true });
}

/** Where writeConfig put things (all absolute). */
export interface DemoSetup {
  /** The temp folder holding everything. */
  dir: string;
  /** backup_config.json. */
  configFile: string;
  /** dir/data: the demo databases and app/. */
  dataDir: string;
  /** dir/backups. */
  backupDir: string;
  /** dir/data/app. */
  appDir: string;
  /** Absolute paths of the demo databases by name. */
  dbs: { users: string; inventario: string; auditoria: string };
}

/** The demo config as an object (paths relative to the config file in `dir`). */
export function demoConfig(): Record<string, unknown> {
  return {
    backupDir: './backups',
    databases: [
      { name: 'users', engine: 'sqlite', path: './data/users.db' },
      { name: 'inventario', engine: 'sqlite', path: './data/inventario.db' },
      { name: 'auditoria', url: 'sqlite:./data/auditoria.db' },
    ],
    files: {
      config: ['./data/app/.env', './data/app/settings.json'],
      application: [{ path: './data/app', include: ['**'], exclude: ['.env', '*.log', 'tmp/**'] }],
    },
    compression: { level: 6 },
    retention: { keepLast: 3, daily: 30, weekly: 12, monthly: 12, yearly: 5 },
  };
}

/**
 * Writes `dir/backup_config.json` for the demo setup and creates the demo databases in `dir/data`
 * (unless `demo: false`). `overrides` replaces top-level keys of the demo config (a key set to
 * undefined is removed); a function gets the demo config and returns the document to write.
 */
export function writeConfig(
  dir: string,
  overrides: Record<string, unknown> | ((base: Record<string, unknown>) => unknown) = {},
  opts: { demo?: boolean; scale?: number; fileName?: string } = {},
): DemoSetup {
  const dataDir = join(dir, 'data');
  if (opts.demo !== false && !existsSync(join(dataDir, 'users.db'))) createDemo(dataDir, { scale: opts.scale ?? 1 });
  mkdirSync(dir, { recursive: true });
  let doc: unknown;
  if (typeof overrides === 'function') doc = overrides(demoConfig());
  else {
    const base = demoConfig();
    for (const [k, v] of Object.entries(overrides)) {
      if (v === undefined) Reflect.deleteProperty(base, k);
      else base[k] = v;
    }
    doc = base;
  }
  const configFile = join(dir, opts.fileName ?? 'backup_config.json');
  writeFileSync(configFile, JSON.stringify(doc, null, 2) + '\n');
  return {
    dir,
    configFile,
    dataDir,
    backupDir: join(dir, 'backups'),
    appDir: join(dataDir, 'app'),
    dbs: {
      users: join(dataDir, 'users.db'),
      inventario: join(dataDir, 'inventario.db'),
      auditoria: join(dataDir, 'auditoria.db'),
    },
  };
}

/** A temp folder with the demo databases and its config: the usual start of a test. */
export function demoSetup(
  overrides: Parameters<typeof writeConfig>[1] = {},
  opts: Parameters<typeof writeConfig>[2] = {},
): DemoSetup {
  return writeConfig(makeTmpDir(), overrides, opts);
}
