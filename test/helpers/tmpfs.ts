import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

/** A tmpfs of a given size mounted on a folder (root only): a small disk that fills up. */
export interface SmallDisk {
  dir: string;
  /** Changes its size (e.g. to make room again). */
  resize(bytes: number): void;
  unmount(): void;
}

/** Why a tmpfs cannot be mounted here, or null when it can (CI runs as root). */
export function tmpfsProblem(): string | null {
  if (process.getuid?.() !== 0) return 'not running as root (CI runs as root)';
  return null;
}

const mounted = new Set<string>();

/** Mounts a tmpfs of `bytes` on `dir` (created), mode 0700; `inodes`: at most that many files and folders on it. */
export function mountSmallDisk(dir: string, bytes: number, inodes?: number): SmallDisk {
  mkdirSync(dir, { recursive: true });
  const run = (args: string[]) => {
    const r = spawnSync('mount', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mount ${args.join(' ')} failed: ${r.stderr}`);
  };
  run(['-t', 'tmpfs', '-o', `size=${bytes},mode=0700${inodes ? `,nr_inodes=${inodes}` : ''}`, 'tmpfs', dir]);
  mounted.add(dir);
  return {
    dir,
    resize: (n) => run(['-o', `remount,size=${n}`, dir]),
    unmount: () => {
      if (mounted.delete(dir)) spawnSync('umount', ['-l', dir]);
    },
  };
}

/** Unmounts every small disk still mounted (use in afterEach). */
export function unmountAllSmallDisks(): void {
  for (const dir of [...mounted]) {
    mounted.delete(dir);
    spawnSync('umount', ['-l', dir]);
  }
}
