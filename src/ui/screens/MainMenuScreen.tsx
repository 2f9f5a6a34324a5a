import { Box } from 'ink';
import { Screen } from '../components/Screen.js';
import { SelectList } from '../components/SelectList.js';
import { isCtrlC, useKeys } from '../use-keys.js';
import { useListNavigation } from '../use-list-navigation.js';
import { useUi } from '../use-ui.js';

export type MainChoice = 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** The seven numbered options. Arrows/j/k move, 1–7 open an option at once, Enter opens, q quits. */
export function MainMenuScreen({
  onChoose,
  initial = 0,
}: {
  onChoose: (choice: MainChoice) => void;
  initial?: number;
}) {
  const { t } = useUi();
  const nav = useListNavigation(7, 7, initial);
  useKeys((input, key) => {
    if (isCtrlC(input, key)) return;
    if (nav.handle(input, key)) return;
    if (/^[1-7]$/.test(input)) return onChoose(Number(input) as MainChoice);
    if (key.return) return onChoose((nav.index + 1) as MainChoice);
    if (input === 'q' || input === 'Q') return onChoose(7);
  });
  return (
    <Screen title={t.main.title} help={t.help.main}>
      <Box marginTop={1} flexDirection="column">
        <SelectList items={t.main.items} index={nav.index} numbered />
      </Box>
    </Screen>
  );
}
