// Creates the demo databases (users, inventario, auditoria) and a small application folder.
// Used by `npm run demo` and by tests. Deterministic: the same rows on every run.
import Database from 'better-sqlite3';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { scryptSync } from 'node:crypto';
import { join } from 'node:path';

function rng(seed) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

const FIRST = ['Ana', 'Luis', 'María', 'José', 'Carmen', 'Jorge', 'Lucía', 'Pedro', 'Sofía', 'Diego', 'Elena', 'Raúl'];
const LAST = ['García', 'Rodríguez', 'Martínez', 'López', 'Sánchez', 'Pérez', 'Gómez', 'Núñez', 'Ibáñez', 'Muñoz'];
const ITEMS = [
  'Tornillo',
  'Tuerca',
  'Arandela',
  'Cable',
  'Interruptor',
  'Bombilla',
  'Tubo',
  'Codo',
  'Válvula',
  'Cinta',
];

export function createDemo(dir, opts = {}) {
  const scale = opts.scale ?? 1;
  mkdirSync(dir, { recursive: true });
  const r = rng(42);
  const pick = (a) => a[Math.floor(r() * a.length)];
  const ts = (i) => new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString();

  const users = new Database(join(dir, 'users.db'));
  users.pragma('journal_mode = WAL');
  users.exec(`CREATE TABLE IF NOT EXISTS roles (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);
    CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, username TEXT UNIQUE NOT NULL, full_name TEXT NOT NULL,
      email TEXT NOT NULL, password_hash TEXT NOT NULL, role_id INTEGER NOT NULL REFERENCES roles(id), active INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS users_email ON users(email);`);
  if (users.prepare('SELECT count(*) FROM users').pluck().get() === 0) {
    users.transaction(() => {
      ['admin', 'operador', 'auditor', 'consulta'].forEach((n, i) =>
        users.prepare('INSERT INTO roles VALUES (?, ?)').run(i + 1, n),
      );
      const ins = users.prepare(
        'INSERT INTO users (username, full_name, email, password_hash, role_id, active, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      for (let i = 1; i <= 200 * scale; i++) {
        const name = `${pick(FIRST)} ${pick(LAST)}`;
        const salt = `s${i}`;
        const hash = `scrypt$1024$${salt}$` + scryptSync(`clave-${i}`, salt, 32, { N: 1024 }).toString('hex');
        ins.run(`user${i}`, name, `user${i}@example.com`, hash, 1 + (i % 4), i % 17 ? 1 : 0, ts(i));
      }
    })();
  }
  users.close();

  const inv = new Database(join(dir, 'inventario.db'));
  inv.pragma('journal_mode = WAL');
  inv.exec(`CREATE TABLE IF NOT EXISTS products (id INTEGER PRIMARY KEY, sku TEXT UNIQUE NOT NULL, name TEXT NOT NULL,
      price_cents INTEGER NOT NULL, stock INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS stock_movements (id INTEGER PRIMARY KEY, product_id INTEGER NOT NULL REFERENCES products(id),
      quantity INTEGER NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL);`);
  if (inv.prepare('SELECT count(*) FROM products').pluck().get() === 0) {
    inv.transaction(() => {
      const ip = inv.prepare('INSERT INTO products (sku, name, price_cents, stock) VALUES (?, ?, ?, 0)');
      const nProducts = 500 * scale;
      for (let i = 1; i <= nProducts; i++)
        ip.run(`SKU-${String(i).padStart(5, '0')}`, `${pick(ITEMS)} ${i} mm`, Math.floor(r() * 50000) + 50);
      const im = inv.prepare('INSERT INTO stock_movements (product_id, quantity, reason, at) VALUES (?, ?, ?, ?)');
      const up = inv.prepare('UPDATE products SET stock = stock + ? WHERE id = ?');
      for (let i = 1; i <= 5000 * scale; i++) {
        const p = 1 + Math.floor(r() * nProducts);
        const q = r() < 0.6 ? Math.floor(r() * 100) + 1 : -Math.floor(r() * 20) - 1;
        im.run(p, q, q > 0 ? 'compra' : 'venta', ts(i));
        up.run(q, p);
      }
    })();
  }
  inv.close();

  const aud = new Database(join(dir, 'auditoria.db'));
  aud.pragma('journal_mode = WAL');
  aud.exec(`CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
      entity TEXT NOT NULL, details TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS events_at ON events(at);`);
  if (aud.prepare('SELECT count(*) FROM events').pluck().get() === 0) {
    aud.transaction(() => {
      const ie = aud.prepare('INSERT INTO events (at, actor, action, entity, details) VALUES (?, ?, ?, ?, ?)');
      for (let i = 1; i <= 10000 * scale; i++) {
        const action = pick(['login', 'logout', 'update', 'create', 'delete', 'export']);
        ie.run(
          ts(i),
          `user${1 + Math.floor(r() * 200)}`,
          action,
          pick(['users', 'products', 'stock_movements']),
          JSON.stringify({ ip: `10.0.${i % 255}.${(i * 7) % 255}`, ok: r() > 0.05 }),
        );
      }
    })();
  }
  aud.close();

  const app = join(dir, 'app');
  mkdirSync(join(app, 'config'), { recursive: true });
  mkdirSync(join(app, 'templates'), { recursive: true });
  if (!existsSync(join(app, '.env')))
    writeFileSync(join(app, '.env'), 'APP_ENV=demo\nDB_PASSWORD=demo-not-a-secret\nSMTP_HOST=localhost\n', {
      mode: 0o600,
    });
  writeFileSync(
    join(app, 'settings.json'),
    JSON.stringify({ company: 'Ferretería Demo S.A.', currency: 'EUR', locale: 'es-ES' }, null, 2) + '\n',
  );
  writeFileSync(join(app, 'config', 'app.ini'), '[server]\nport = 8080\nworkers = 4\n');
  writeFileSync(join(app, 'templates', 'factura.html'), '<h1>Factura {{numero}}</h1>\n<p>Cliente: {{cliente}}</p>\n');
  writeFileSync(join(app, 'requirements.txt'), 'flask==3.0.3\nsqlalchemy==2.0.31\n');
  writeFileSync(join(app, 'server.log'), 'not backed up: *.log is excluded\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2] ?? 'data';
  createDemo(dir, { scale: Number(process.env.DEMO_SCALE ?? 1) });
  console.log(`Demo databases ready in ${dir}/: users.db, inventario.db, auditoria.db (and app/ files)`);
}
