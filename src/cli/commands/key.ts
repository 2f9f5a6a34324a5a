import type { Command } from 'commander';
import { promises as fsp } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { RefusedError, RespaldoError, UsageError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { newIdentity } from '../../engine/crypt.js';
import { fsyncPath } from '../../engine/fs-util.js';
import { addCommonOptions, runAction } from '../context.js';

/**
 * Writes a new age identity to `file` (created whole, mode 0600; an existing file is never
 * replaced) and returns its recipient. Nothing of the secret key is printed or logged.
 */
export async function generateKeyFile(file: string): Promise<string> {
  const { text, recipient } = await newIdentity();
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, 'wx', 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST')
      throw new RefusedError(
        `${file} already exists; it was not replaced (it may be the only key of older sets).`,
        'Choose another file name, or move the old key somewhere safe first.',
      );
    throw new RespaldoError(
      'failed',
      `Cannot create ${file} (${code ?? (err as Error).message}).`,
      'Create its folder, or choose a folder you can write to.',
    );
  }
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fsyncPath(dirname(file));
  return recipient;
}

export function register(program: Command): void {
  const key = program.command('key').description('age keys of encrypted backups');
  addCommonOptions(
    key
      .command('generate')
      .description('write a new age identity (secret key) to FILE, mode 0600, and print its recipient (public key)')
      .argument('<file>', 'where to write the identity (never replaced if it exists)'),
  ).action(
    runAction({}, async (io, _opts, file: string) => {
      // `key generate "$KEYFILE"` with the variable not set: the current folder, "already exists" (exit 9).
      if (file.trim() === '')
        throw new UsageError(
          'FILE needs a value, not an empty one.',
          'An empty value is often a shell variable that was not set; give the file the identity goes in.',
        );
      const path = resolve(file);
      const recipient = await generateKeyFile(path);
      if (io.json) io.printJson({ identityFile: path, recipient });
      else {
        io.out(`Wrote the identity to ${path} (mode 0600). Its recipient (public key):`);
        io.out(recipient);
        io.out(
          'Put the recipient in "encryption.recipients"; keep the identity file OFF this server (and a second copy),',
        );
        io.out(
          'and name it in "encryption.identityFile" only where you restore. Without it the encrypted sets cannot be read.',
        );
      }
      return EXIT.ok;
    }),
  );
}
