import { Box, Text } from 'ink';
import { Screen } from '../../components/Screen.js';
import { SelectList } from '../../components/SelectList.js';
import type { RestorePlan } from '../../engine-facade.js';
import { connectedSessions } from '../../restore-wizard.js';
import { useBodyRows, useScreenSize } from '../../use-screen-size.js';
import { wrapWords } from '../../../core/format.js';
import { useUi } from '../../use-ui.js';
import { sayTarget } from '../../i18n/index.js';
import { Para } from '../../components/Para.js';

/** Only connected sessions stop an in-place restore: they are listed; close them at the swap? (default no) */
export function SessionsStep({ plan, choice }: { plan: RestorePlan | null; choice: 0 | 1 }) {
  const { t, lang, theme } = useUi();
  const body = useBodyRows();
  const { columns } = useScreenSize();
  const connected = plan ? connectedSessions(plan) : [];
  // Rows per database for its sessions, leaving room for the text and the question below them.
  const perDb = Math.max(2, Math.floor((body - 10) / Math.max(1, connected.length)));
  return (
    <Screen
      title={t.restore.sessionsTitle}
      help={t.help.sessions}
      footer={
        <Box flexDirection="column" marginTop={1}>
          <Text bold>{t.restore.closeQuestion}</Text>
          <SelectList items={[t.restore.closeNo, t.restore.closeYes]} index={choice} />
        </Box>
      }
    >
      <Para>{t.restore.sessionsIntro}</Para>
      {connected.map((d) => {
        const all = d.state.inUseBy;
        // The heading is folded, never cut (its end is the count of sessions): the rows it takes past its first
        // come out of this database's sessions shown, so the question below still fits.
        const heading = wrapWords(t.restore.sessionsOn(d.database, sayTarget(lang, d.target), all.length), columns);
        const rows = Math.max(2, perDb - (heading.length - 1));
        const shown = all.length > rows ? all.slice(0, rows - 1) : all;
        return (
          <Box key={d.database} flexDirection="column">
            {heading.map((line, i) => (
              <Text key={i} bold color={theme.colors.warn}>
                {line}
              </Text>
            ))}
            {shown.map((x, i) => (
              <Text key={i} wrap="truncate-end">
                {'  '}
                {x}
              </Text>
            ))}
            {shown.length < all.length ? (
              <Text color={theme.colors.muted}>
                {'  '}
                {t.restore.moreSessions(all.length - shown.length)}
              </Text>
            ) : null}
          </Box>
        );
      })}
      <Para>{t.restore.sessionsRisk}</Para>
    </Screen>
  );
}
