#!/usr/bin/env node
// Rewrites src/config/schema-validator.generated.ts from schema/backup_config.schema.json (see
// scripts/lib/schema-validator.mjs).
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validatorSource } from './lib/schema-validator.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'src', 'config', 'schema-validator.generated.ts');
writeFileSync(out, validatorSource(join(root, 'schema', 'backup_config.schema.json')));
console.log(`wrote ${out}`);
