import {
  closeSync,
  constants,
  fstatSync,
  promises as fsp,
  openSync,
  readFileSync,
  statSync,
  type Stats,
} from 'node:fs';

/**
 * Reading a file an operator names (the config, the `.env` beside it, an identity, passphrase or private key file):
 * only a regular file is read. A FIFO blocked the open (and the command) forever, a device could be read without
 * end, a folder was an internal error. The name is looked at first (a device is never opened), then opened with
 * O_NONBLOCK (a FIFO put there since cannot block) and looked at again through the descriptor (what is read is what
 * was checked).
 */

/** What a path is when it is not a regular file: `a folder`, `a FIFO` (named pipe), `a socket`, `a device`. */
export type NotRegularKind = 'a folder' | 'a FIFO' | 'a socket' | 'a device';

/** Thrown for a path that is not a regular file; `code` is EISDIR for a folder (as reading one says), else ENOTREG. */
export class NotRegularFileError extends Error {
  readonly code: 'EISDIR' | 'ENOTREG';
  constructor(
    readonly path: string,
    readonly kind: NotRegularKind,
  ) {
    super(`${path} is ${kind}, not a regular file`);
    this.name = 'NotRegularFileError';
    this.code = kind === 'a folder' ? 'EISDIR' : 'ENOTREG';
  }
}

/** What `st` is when it is not a regular file, else null. */
export function notRegularKind(st: Stats): NotRegularKind | null {
  if (st.isFile()) return null;
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return 'a device';
}

/** `err` as a few words for a message: the kind of a NotRegularFileError, else its code (ENOENT, EACCES). */
export function readProblem(err: unknown): string {
  if (err instanceof NotRegularFileError) return `it is ${err.kind}, not a regular file`;
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

/**
 * Thrown by readRegularFileSync given `maxBytes` for a larger file: never read (a config of 300 MB, a log or a dump
 * named by mistake, was read whole, about twice its size in memory, before its JSON error).
 */
export class TooLargeFileError extends Error {
  constructor(
    readonly path: string,
    readonly size: number,
    readonly maxBytes: number,
  ) {
    super(`${path} is ${size} bytes, more than the ${maxBytes} read of it`);
    this.name = 'TooLargeFileError';
  }
}

function check(path: string, st: Stats): void {
  const kind = notRegularKind(st);
  if (kind) throw new NotRegularFileError(path, kind);
}

/**
 * The content of the regular file at `path`; NotRegularFileError for anything else, TooLargeFileError for one of
 * more than `maxBytes` (when given, looked at before anything is read), fs errors as they are.
 */
export function readRegularFileSync(path: string, opts: { maxBytes?: number } = {}): Buffer {
  check(path, statSync(path));
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    check(path, st);
    if (opts.maxBytes !== undefined && st.size > opts.maxBytes)
      throw new TooLargeFileError(path, st.size, opts.maxBytes);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** As readRegularFileSync, without blocking the event loop. */
export async function readRegularFile(path: string): Promise<Buffer> {
  check(path, await fsp.stat(path));
  const fh = await fsp.open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    check(path, await fh.stat());
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}
