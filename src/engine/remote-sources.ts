import type { LoadedConfig } from '../core/types.js';
import { SOURCE_PATTERN } from '../destinations/config.js';
import { withRetries } from './copy.js';
import { withDestination } from './remote.js';

/**
 * This server's `source` at destination `name`, and the other sources with a set folder there, each once, sorted:
 * what a new server whose `source` finds nothing there may set. One listing of the set folders; no manifest is read.
 */
export async function remoteSources(
  cfg: LoadedConfig,
  name: string,
  opts: { signal?: AbortSignal } = {},
): Promise<{ source: string; others: string[] }> {
  return withDestination(
    cfg,
    name,
    async (dest, source) => {
      const refs = await withRetries(() => dest.listSets(null));
      const others = refs.map((r) => r.source).filter((src) => src !== source && SOURCE_PATTERN.test(src));
      return { source, others: [...new Set(others)].sort() };
    },
    opts.signal,
  );
}
