#!/usr/bin/env node
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    'respaldo: the program is not built yet (dist/cli/main.js is missing).\nhint: run `npm install` (it builds), or `npm run build`.\n',
  );
  process.exit(1);
}
await import(main.href);
