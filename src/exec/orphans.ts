import { execFile } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import { promisify } from 'node:util';

/**
 * Children of a killed run that outlived it. A run that is killed (kill -9, the OOM killer) cannot stop its
 * children: pg_restore and its workers then wait forever on a named pipe nobody will feed, or go on loading
 * a staging database nobody will use. Each run keeps its children's files in a private scratch folder whose
 * path is in their arguments (`<backupDir>/.tmp-restore-<pid>/…`), so the processes whose command line
 * mentions the folder of a run that is gone are its orphans, and only those.
 */

/** Process ids whose command line contains `text`, other than this process. */
export async function processesMentioning(text: string): Promise<number[]> {
  const found: number[] = [];
  if (existsSync('/proc/self/cmdline')) {
    for (const name of await fsp.readdir('/proc')) {
      if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
      const cmdline = await fsp.readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
      if (cmdline.includes(text)) found.push(Number(name));
    }
    return found;
  }
  // Without /proc (macOS, BSD): ps, with unlimited width.
  const out = await promisify(execFile)('ps', ['-A', '-ww', '-o', 'pid=,args='], { maxBuffer: 16 << 20 }).catch(() => ({
    stdout: '',
  }));
  for (const line of out.stdout.split('\n')) {
    const m = /^\s*(\d+)\s(.*)$/.exec(line);
    if (m && Number(m[1]) !== process.pid && m[2]!.includes(text)) found.push(Number(m[1]));
  }
  return found;
}

/**
 * Kills (SIGKILL) every process whose command line mentions `folder`, the private scratch folder of a run
 * that is gone, and waits up to `waitMs` for them to be gone. Returns how many were stopped.
 */
export async function stopOrphansOf(folder: string, waitMs = 5000): Promise<number> {
  const path = folder.endsWith('/') ? folder : `${folder}/`;
  const pids = await processesMentioning(path);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile, or not ours to stop
    }
  }
  const until = Date.now() + waitMs;
  while (Date.now() < until && (await processesMentioning(path)).length > 0)
    await new Promise((r) => setTimeout(r, 25));
  return pids.length;
}
