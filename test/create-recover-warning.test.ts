import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeResult, runCli } from './helpers/cli.js';
import { demoSetup } from './helpers/tmp.js';

/**
 * `create` first looks on each server for what an interrupted restore or drill left. A server it cannot reach said
 * "could not finish what an interrupted restore left (respaldo status lists it)" although no restore had ever run:
 * the operator went looking for one. It now says it could not check.
 */
describe('create with a PostgreSQL server it cannot reach', () => {
  it('says it could not check the server for leftovers, not that an interrupted restore left something', async () => {
    const s = demoSetup({ files: undefined });
    const doc = JSON.parse(readFileSync(s.configFile, 'utf8')) as { databases: unknown[] };
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    doc.databases.push({ name: 'gone', engine: 'postgres', url: 'postgresql://app:pw@127.0.0.1:1/gone' });
    writeFileSync(s.configFile, JSON.stringify(doc));
    const r = await runCli(['create', '--db', 'gone', '--config', s.configFile], { cwd: s.dir });
    expect(r.code, describeResult(r)).not.toBe(0);
    expect(r.stderr).toContain('could not check its server for what an interrupted restore or drill may have left');
    expect(r.stderr).not.toContain('could not finish what an interrupted restore left');
  });
});
