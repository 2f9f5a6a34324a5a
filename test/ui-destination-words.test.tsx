/**
 * The destination errors the menu shows most on the new-server day, in the operator's language: a
 * folder destination that is not mounted, and an SSH server that cannot be reached (the library's own
 * words stay as they are, inside the sentence).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render } from 'ink-testing-library';
import { loadConfig } from '../src/config/load.js';
import { ErrorBox } from '../src/ui/components/ErrorBox.js';
import { createEngineFacade } from '../src/ui/engine-facade.js';
import { catalogue } from '../src/ui/i18n/index.js';
import { createTheme } from '../src/ui/theme.js';
import { UiRoot } from '../src/ui/UiRoot.js';
import { FakeFacade, NOW } from './ui-fake-facade.js';
import { freePort } from './helpers/pg-cluster.js';

let dir: string | undefined;
afterEach(() => {
  cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** The error `facade.listSets({ from })` throws for a config with `destination`. */
async function listingError(destination: Record<string, unknown>): Promise<unknown> {
  dir = mkdtempSync(join(tmpdir(), 'respaldo-destwords-'));
  const file = join(dir, 'backup_config.json');
  writeFileSync(
    file,
    JSON.stringify({
      backupDir: 'backups',
      databases: [{ name: 'users', engine: 'sqlite', path: 'users.db' }],
      destinations: [{ source: 'srv1', ...destination }],
    }),
  );
  const facade = createEngineFacade(await loadConfig({ configPath: file }));
  return facade.listSets({ from: String(destination['name']) }).then(
    () => expect.unreachable('the listing should fail'),
    (err: unknown) => err,
  );
}

function shown(error: unknown, lang: 'en' | 'es'): string {
  const theme = createTheme({ LANG: lang === 'es' ? 'es_ES.UTF-8' : 'en_US.UTF-8' });
  const ctx = { t: catalogue(lang), lang, theme, facade: new FakeFacade(), now: () => NOW };
  const { lastFrame } = render(
    <UiRoot value={ctx}>
      <ErrorBox error={error} />
    </UiRoot>,
  );
  return lastFrame()!
    .replace(/[│╭╮╰╯─]/g, ' ')
    .replace(/\s+/g, ' ');
}

describe('destination errors in the menu language', () => {
  it('a folder destination that is not mounted', async () => {
    const err = await listingError({ name: 'nas', type: 'folder', path: '/mnt/nas-that-is-not-there' });
    expect(shown(err, 'es')).toContain('destino "nas": /mnt/nas-that-is-not-there no existe (¿no está montado?)');
    expect(shown(err, 'es')).toContain('Móntelo y repita la orden.');
    expect(shown(err, 'en')).toContain('destination "nas": /mnt/nas-that-is-not-there does not exist (not mounted?)');
  });

  it('an SSH server that cannot be reached', async () => {
    const port = await freePort(); // nothing listens there
    const err = await listingError({
      name: 'ssh',
      type: 'sftp',
      host: '127.0.0.1',
      port,
      user: 'backup',
      password: 'x',
      hostKey: `SHA256:${'A'.repeat(43)}`,
      path: '/backups',
    });
    const es = shown(err, 'es');
    expect(es).toMatch(/destino "ssh": \S+ no responde o cerró la conexión \(/);
    expect(es).toContain('Revise la red y el servidor SSH, y repita la orden.');
    expect(es).not.toContain('Check the network');
    expect(shown(err, 'en')).toContain('Check the network and the SSH server, then run the command again.');
  }, 60_000);
});
