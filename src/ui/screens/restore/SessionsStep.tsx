import { Box, Text } from 'ink';
import { Screen } from '../../components/Screen.js';
import { SelectList } from '../../components/SelectList.js';
import type { RestorePlan } from '../../engine-facade.js';
import { connectedSessions } from '../../restore-wizard.js';
import { useBodyRows } from '../../use-screen-size.js';
import { useUi } from '../../use-ui.js';
import { sayTarget } from '../../i18n/index.js';
import { Para } from '../../components/Para.js';

/** Only connected sessions stop an in-place restore: they are listed; close them at the swap? (default no) */
export function SessionsStep({ plan, choice }: { plan: RestorePlan | null; choice: 0 | 1 }) {
  const { t, lang, theme } = useUi();
  const body = useBodyRows();
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
        const shown = all.length > perDb ? all.slice(0, perDb - 1) : all;
        return (
          <Box key={d.database} flexDirection="column">
            <Text bold color={theme.colors.warn} wrap="truncate-end">
              {t.restore.sessionsOn(d.database, sayTarget(lang, d.target), all.length)}
            </Text>
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
