import { Box, Text } from 'ink';
import { ProgressBar, StepLines } from '../../components/ProgressBar.js';
import { ScrollRows } from '../../components/Rows.js';
import { Screen } from '../../components/Screen.js';
import type { RestoreOutcome } from '../../engine-facade.js';
import type { ProgressState } from '../../use-progress.js';
import { useScreenSize } from '../../use-screen-size.js';
import { useUi } from '../../use-ui.js';
import type { RestoreLayout } from './layout.js';

function Bars({ progress }: { progress: ProgressState }) {
  const { columns } = useScreenSize();
  const nowMs = Date.now();
  return (
    <>
      {progress.items.map((p) => (
        <ProgressBar key={p.item} p={p} now={nowMs} width={columns} />
      ))}
    </>
  );
}

/**
 * The restore running: a bar per item, the step under way of the running ones (a PostgreSQL restore says which:
 * pg_restore, row counts, the swap), the last two notes, the last warning (all of them are in the outcome), and
 * the warning after a first Ctrl+C.
 */
export function RunningStep({ progress, interruptWarned }: { progress: ProgressState; interruptWarned: boolean }) {
  const { t, theme } = useUi();
  return (
    <Screen title={t.restore.running} help={t.help.running}>
      <Bars progress={progress} />
      <StepLines progress={progress} />
      {progress.info.slice(-2).map((m, i) => (
        <Text key={i} color={theme.colors.muted} wrap="truncate-end">
          {m}
        </Text>
      ))}
      {progress.warnings.slice(-1).map((w) => (
        <Text key={w} color={theme.colors.warn} wrap="truncate-end">
          {`${t.common.status.warn}: ${w}`}
        </Text>
      ))}
      {interruptWarned ? <Text color={theme.colors.warn}>{t.restore.interruptAgain}</Text> : null}
    </Screen>
  );
}

/** The outcome: the bars as they ended, then what was restored and how to roll back, scrolled when long. */
export function OutcomeStep(props: {
  outcome: RestoreOutcome;
  progress: ProgressState;
  layout: RestoreLayout;
  scrollTop: number;
}) {
  const { t } = useUi();
  return (
    <Screen title={props.outcome.ok ? t.restore.outcomeOk : t.restore.outcomeFailed} help={props.layout.help}>
      <Bars progress={props.progress} />
      <Box flexDirection="column" marginTop={1}>
        <ScrollRows rows={props.layout.rows} height={props.layout.height} top={props.scrollTop} />
      </Box>
    </Screen>
  );
}
