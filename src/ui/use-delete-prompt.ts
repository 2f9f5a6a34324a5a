import { useEffect, useState } from 'react';
import { english, type Phrase } from '../core/phrases.js';
import { say } from './i18n/index.js';
import { useUi } from './use-ui.js';

/**
 * The typed confirmation's prompt for deleting set `id` (null: no deletion asked now): the title, what the set is
 * to the operator (the only or newest backup of a database, a safety copy, files put in its folder by hand; as
 * `respaldo delete` says them, a database a safety set keeps on a server included), and the word to type. The
 * engine says what the set is (before-delete.ts); the screens only show it.
 */
export function useDeletePrompt(id: string | null): string {
  const { t, facade, lang, theme } = useUi();
  const [notes, setNotes] = useState<Phrase[]>([]);
  useEffect(() => {
    setNotes([]);
    if (!id) return;
    let live = true;
    facade.deleteNotes(id).then(
      (n) => live && setNotes(n),
      () => undefined, // the prompt without them; the deletion itself says what stops it
    );
    return () => {
      live = false;
    };
  }, [id]);
  if (!id) return '';
  const said = notes.map((n) => say(lang, n, english(n), theme.unicode));
  return [t.details.deleteTitle(id), ...said, t.restore.typeWord(t.deleteWord)].join(' ');
}
