import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Preloads for `node --import` that measure a CLI run's memory in its own process, written in folder `dir`. */

/** A preload for `node --import` that writes the process's peak RSS (VmHWM) at exit; `peakRss()` reads it, bytes. */
export function peakRecorder(dir: string): { preload: string; peakRss: () => number } {
  const out = join(dir, 'peak.json');
  const preload = join(dir, 'peak.mjs');
  writeFileSync(
    preload,
    `import { readFileSync, writeFileSync } from 'node:fs';\n` +
      `process.on('exit', () => writeFileSync(${JSON.stringify(out)}, ` +
      `/VmHWM:\\s*(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]));\n`,
  );
  return { preload, peakRss: () => Number(readFileSync(out, 'utf8')) * 1024 };
}

/**
 * As peakRecorder, the most of the old generation found in use after a full collection (what was alive then), bytes:
 * what a run holds, without the collector's timing or the machine's load that RSS has. The young generation is left
 * out: a collection's observer runs some time after it, and under load the new space had filled again by then (up to
 * 16 MiB more, counted as held). With `everyMs`, a full collection is also made that often (V8 may make none while a
 * few MiB more are held), and what it left counted.
 */
export function liveRecorder(dir: string, opts: { everyMs?: number } = {}): { preload: string; live: () => number } {
  const out = join(dir, 'live.json');
  const preload = join(dir, 'live.mjs');
  const every = opts.everyMs
    ? `import { setFlagsFromString } from 'node:v8';\n` +
      `import { runInNewContext } from 'node:vm';\n` +
      `setFlagsFromString('--expose-gc');\n` +
      `const gc = runInNewContext('gc');\n` +
      `setInterval(() => { gc(); live = Math.max(live, oldInUse()); }, ${opts.everyMs}).unref();\n`
    : '';
  writeFileSync(
    preload,
    `import { writeFileSync } from 'node:fs';\n` +
      `import { PerformanceObserver, constants } from 'node:perf_hooks';\n` +
      `import { getHeapSpaceStatistics } from 'node:v8';\n` +
      `const oldInUse = () => getHeapSpaceStatistics().reduce((n, s) => ` +
      `s.space_name.startsWith('new_') ? n : n + s.space_used_size, 0);\n` +
      `let live = 0;\n` +
      `new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) ` +
      `live = Math.max(live, oldInUse()); }).observe({ entryTypes: ['gc'] });\n` +
      every +
      `process.on('exit', () => writeFileSync(${JSON.stringify(out)}, String(live)));\n`,
  );
  return { preload, live: () => Number(readFileSync(out, 'utf8')) };
}
