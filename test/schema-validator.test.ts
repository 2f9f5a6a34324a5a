import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/cli.js';

it('the generated config validator is up to date with the schema (else: npm run gen:schema)', async () => {
  const lib = (await import(join(REPO_ROOT, 'scripts', 'lib', 'schema-validator.mjs'))) as {
    validatorSource(schemaFile: string): string;
  };
  const expected = lib.validatorSource(join(REPO_ROOT, 'schema', 'backup_config.schema.json'));
  const committed = readFileSync(join(REPO_ROOT, 'src', 'config', 'schema-validator.generated.ts'), 'utf8');
  expect(committed === expected, 'src/config/schema-validator.generated.ts is stale: run npm run gen:schema').toBe(
    true,
  );
});
