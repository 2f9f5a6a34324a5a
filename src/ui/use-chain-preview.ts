import { useEffect, useState } from 'react';
import type { BackupType } from '../core/types.js';
import { say } from './i18n/index.js';
import { useUi } from './use-ui.js';

/**
 * The databases a differential or incremental backup of `databases` would store as a full instead,
 * each as `name: why`, the why in the menu's language (facade.planBackupTypes; nothing is changed).
 * Empty for other types, while loading, or when the preview cannot be had (the backup itself then says why).
 */
export function useChainFallbacks(databases: string[], type: BackupType): string[] {
  const { facade, lang, theme } = useUi();
  const [notes, setNotes] = useState<string[]>([]);
  const key = `${type}|${databases.join(',')}|${lang}`;
  useEffect(() => {
    let live = true;
    setNotes([]);
    if (type !== 'differential' && type !== 'incremental') return;
    facade.planBackupTypes({ databases, type }).then(
      (preview) =>
        live &&
        setNotes(
          preview.flatMap((p) =>
            p.fallback ? [`${p.database}: ${say(lang, p.fallbackPhrase, p.fallback, theme.unicode)}`] : [],
          ),
        ),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [key]);
  return notes;
}
