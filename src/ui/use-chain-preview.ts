import { useEffect, useState } from 'react';
import type { BackupType } from '../core/types.js';
import { say } from './i18n/index.js';
import { useUi } from './use-ui.js';

/** What useChainFallbacks says: the databases stored as a full instead, and those made on the full instead. */
export interface ChainFallbacks {
  full: string[];
  onFull: string[];
}

const NONE: ChainFallbacks = { full: [], onFull: [] };

/**
 * The databases a differential or incremental backup of `databases` would store as a full instead (`full`), and those
 * an incremental would store as a differential on their full (`onFull`), each as `name: why`, the why in the menu's
 * language (facade.planBackupTypes; nothing is changed). Empty for other types, while loading, or when the preview
 * cannot be had (the backup itself then says why).
 */
export function useChainFallbacks(databases: string[], type: BackupType): ChainFallbacks {
  const { facade, lang, theme } = useUi();
  const [notes, setNotes] = useState<ChainFallbacks>(NONE);
  const key = `${type}|${databases.join(',')}|${lang}`;
  useEffect(() => {
    let live = true;
    setNotes(NONE);
    if (type !== 'differential' && type !== 'incremental') return;
    facade.planBackupTypes({ databases, type }).then(
      (preview) =>
        live &&
        setNotes({
          full: preview.flatMap((p) =>
            p.fallback ? [`${p.database}: ${say(lang, p.fallbackPhrase, p.fallback, theme.unicode)}`] : [],
          ),
          onFull: preview.flatMap((p) =>
            p.onFull ? [`${p.database}: ${say(lang, p.onFullPhrase, p.onFull, theme.unicode)}`] : [],
          ),
        }),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [key]);
  return notes;
}
