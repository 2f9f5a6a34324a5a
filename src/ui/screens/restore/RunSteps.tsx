import { Box, Text } from 'ink';
import { BarList, StepLines } from '../../components/ProgressBar.js';
import { ScrollRows } from '../../components/Rows.js';
import { Screen } from '../../components/Screen.js';
import type { RestoreOutcome } from '../../engine-facade.js';
import type { ProgressState } from '../../use-progress.js';
import { helpRows, useBodyRows, useScreenSize } from '../../use-screen-size.js';
import { useUi } from '../../use-ui.js';
import type { RestoreLayout } from './layout.js';

function Bars({ progress, rows }: { progress: ProgressState; rows: number }) {
  const { columns } = useScreenSize();
  return <BarList items={progress.items} rows={rows} now={Date.now()} width={columns} />;
}

/**
 * The restore running: a bar per item, the step under way of the running ones (a PostgreSQL restore says which:
 * pg_restore, row counts, the swap), the last two notes, the last warning (all of them are in the outcome), and
 * the warning after a first Ctrl+C.
 */
export function RunningStep({ progress, interruptWarned }: { progress: ProgressState; interruptWarned: boolean }) {
  const { t, theme } = useUi();
  const { columns } = useScreenSize();
  const body = useBodyRows() - (helpRows(t.help.running, columns) - 1);
  const steps = Math.min(2, progress.items.filter((p) => p.state === 'running' && p.message).length);
  const below =
    steps + Math.min(2, progress.info.length) + Math.min(1, progress.warnings.length) + (interruptWarned ? 1 : 0);
  return (
    <Screen title={t.restore.running} help={t.help.running}>
      <Bars progress={progress} rows={Math.max(1, body - below)} />
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
      <Bars progress={props.progress} rows={props.layout.bars} />
      <Box flexDirection="column" marginTop={1}>
        <ScrollRows rows={props.layout.rows} height={props.layout.height} top={props.scrollTop} />
      </Box>
    </Screen>
  );
}
