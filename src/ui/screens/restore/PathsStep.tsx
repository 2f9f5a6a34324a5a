import { Box, Text } from 'ink';
import { Screen } from '../../components/Screen.js';
import { Para } from '../../components/Para.js';
import type { WizardState } from '../../restore-wizard.js';
import { useBodyRows, useScreenSize } from '../../use-screen-size.js';
import { useUi } from '../../use-ui.js';
import { typedChoices } from '../../../engine/stored-path-choices.js';

/** Names listed at most per Tab (the step shows those that fit and counts the others). */
export const PATH_CHOICES = 200;

/** The paths added shown at most (the last ones), one a line. */
const ADDED_SHOWN = 3;

/**
 * Step 3c, the files restored alone: which of them. A stored path typed (a file, or a folder and what is below it;
 * empty: all), what the set stores there listed one level at a time (on entering the step, then on Tab, which
 * completes the path as a shell does). Enter adds the path typed, to restore several; Enter on an empty one goes on
 * (none added: every file). The plan checks each path against every stored file, and names the closest when one
 * chooses none.
 */
export function PathsStep({ state, busyText }: { state: WizardState; busyText: string | null }) {
  const { t, theme } = useUi();
  const body = useBodyRows();
  const { columns } = useScreenSize();
  const { current, shown, chosen } = typedChoices(state.pathChoices, state.pathText);
  const added = state.pathsAdded;
  const field = added.length ? t.restore.pathFieldMore : t.restore.pathField;
  // What Enter does: go on with the paths added (whatever is listed), add the path typed (what it takes), or go on
  // with every file.
  const goOn = !state.pathText.trim() && added.length > 0;
  const said = goOn
    ? t.restore.pathsGoOn(added.length)
    : !shown.length
      ? t.restore.pathsNone
      : !chosen
        ? t.restore.pathsChosen(0)
        : state.pathText.trim()
          ? t.restore.pathsAdd(chosen)
          : t.restore.pathsChosen(chosen);
  // The paths added, the last ones, each on its line (cut in the middle when longer than it).
  const addedShown = added.slice(-ADDED_SHOWN);
  // The path typed may take several lines: the names listed take what is left (the note under them stays whole).
  const lines = (text: string) => (text ? Math.ceil([...text].length / columns) : 0);
  const fieldLines = Math.ceil(([...`${field}: ${state.pathText}`].length + 3) / columns);
  const addedLines = added.length ? 1 + addedShown.length : 0;
  const room = Math.max(1, body - 7 - fieldLines - lines(said) - addedLines);
  const more = current ? Math.max(0, shown.length - room) + current.more : 0;
  const fileCount = state.fileCount ?? state.manifest?.files.length ?? 0;
  return (
    <Screen title={`${t.restore.title}: ${state.manifest ? state.manifest.id : ''}`} help={t.help.pickPaths}>
      {busyText ? <Text>{busyText}</Text> : null}
      <Text bold>{t.restore.pickPaths(fileCount)}</Text>
      {added.length ? (
        <Box flexDirection="column">
          <Text color={theme.colors.ok}>{t.restore.pathsAddedList(added.length, ADDED_SHOWN)}</Text>
          {addedShown.map((p) => (
            <Text key={p} wrap="truncate-middle">
              {'  '}
              {p}
            </Text>
          ))}
        </Box>
      ) : null}
      {/* One text that wraps whole: a long path as TextField's row squeezed its label into a column of three lines. */}
      <Text>
        <Text color={theme.colors.accent}>{theme.glyphs.pointer} </Text>
        {field}: <Text inverse>{state.pathText}</Text>
        <Text inverse> </Text>
      </Text>
      {current || goOn ? (
        <Box flexDirection="column" marginTop={1}>
          <Text color={goOn || (shown.length && chosen) ? theme.colors.ok : theme.colors.warn}>{said}</Text>
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
