/** What the benchmarks need to start a throwaway PostgreSQL cluster: its binaries and a free port. */
import { existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** The newest PostgreSQL server binaries (PG_BIN_PATH, else /usr/lib/postgresql/<version>/bin). */
export function findPgBin() {
  const base = '/usr/lib/postgresql';
  const dirs = [
    process.env.PG_BIN_PATH,
    ...(existsSync(base)
      ? readdirSync(base)
          .sort((a, b) => Number(b) - Number(a))
          .map((v) => join(base, v, 'bin'))
      : []),
  ].filter(Boolean);
  for (const d of dirs) if (existsSync(join(d, 'initdb'))) return d;
  throw new Error('initdb not found — install the postgresql package (or set PG_BIN_PATH)');
}

/** A TCP port free on 127.0.0.1 now. */
export function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}
