import { Box, Text } from 'ink';
import { Screen } from '../../components/Screen.js';
import { Para } from '../../components/Para.js';
import type { WizardState } from '../../restore-wizard.js';
import { useBodyRows, useScreenSize } from '../../use-screen-size.js';
import { useUi } from '../../use-ui.js';
import { normalStoredPath } from '../../../engine/restore-files.js';

/** Names listed at most per Tab (the step shows those that fit and counts the others). */
export const PATH_CHOICES = 200;

/**
 * Step 3c, the files restored alone: which of them. A stored path typed (a file, or a folder and what is below it;
 * empty: all), what the set stores there listed one level at a time (on entering the step, then on Tab, which
 * completes the path as a shell does). The plan checks the path against every stored file, and names the closest when
 * it chooses none.
 */
export function PathsStep({ state, busyText }: { state: WizardState; busyText: string | null }) {
  const { t, theme } = useUi();
  const body = useBodyRows();
  const { columns } = useScreenSize();
  const typed = state.pathText.replace(/^(\.\/)+/, '');
  const listed = state.pathChoices;
  // What was listed still applies while the path typed goes on from it; the choices are those it still begins.
  const listedTyped = listed?.typed.replace(/^(\.\/)+/, '');
  // Typed as listed: every file there is counted (those past the names shown too). Typed on from a whole listing: the
  // names it still begins, and their files; from one cut at PATH_CHOICES names, nothing until Tab lists it again.
  const sameTyped = typed === listedTyped;
  const current = listed && (sameTyped || (listed.more === 0 && typed.startsWith(listedTyped!))) ? listed : null;
  const shown = current ? current.choices.filter((c) => c.path.startsWith(typed)) : [];
  // What Enter restores: as listed; typed on, the name shown that the path is (a file, or a folder and its files).
  const asPath = normalStoredPath(typed);
  const named = shown.find((c) => normalStoredPath(c.path) === asPath);
  const chosen = sameTyped ? (current?.chosen ?? 0) : named ? (named.folder ? named.files : 1) : 0;
  // The path typed may take several lines: the names listed take what is left (the note under them stays whole).
  const fieldLines = Math.ceil(([...`${t.restore.pathField}: ${state.pathText}`].length + 3) / columns);
  const said = shown.length ? t.restore.pathsChosen(chosen) : t.restore.pathsNone;
  const saidLines = Math.ceil([...said].length / columns);
  const room = Math.max(1, body - 7 - fieldLines - saidLines);
  const more = current ? Math.max(0, shown.length - room) + current.more : 0;
  const fileCount = state.fileCount ?? state.manifest?.files.length ?? 0;
  return (
    <Screen title={`${t.restore.title}: ${state.manifest ? state.manifest.id : ''}`} help={t.help.pickPaths}>
      {busyText ? <Text>{busyText}</Text> : null}
      <Text bold>{t.restore.pickPaths(fileCount)}</Text>
      {/* One text that wraps whole: a long path as TextField's row squeezed its label into a column of three lines. */}
      <Text>
        <Text color={theme.colors.accent}>{theme.glyphs.pointer} </Text>
        {t.restore.pathField}: <Text inverse>{state.pathText}</Text>
        <Text inverse> </Text>
      </Text>
      {current ? (
        <Box flexDirection="column" marginTop={1}>
          <Text color={shown.length && chosen ? theme.colors.ok : theme.colors.warn}>{said}</Text>
          {shown.slice(0, room).map((c) => (
            <Text key={c.path} wrap="truncate-middle">
              {'  '}
              {c.path}
              {c.folder ? <Text color={theme.colors.muted}> ({t.restore.pathFiles(c.files)})</Text> : null}
            </Text>
          ))}
          {more > 0 ? <Text color={theme.colors.muted}>{t.restore.pathsMore(more)}</Text> : null}
        </Box>
      ) : null}
      <Para color={theme.colors.muted}>{t.restore.pathsNote}</Para>
    </Screen>
  );
}
