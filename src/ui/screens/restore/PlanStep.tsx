import { Box, Text } from 'ink';
import { Rows, ScrollRows } from '../../components/Rows.js';
import { Screen } from '../../components/Screen.js';
import { TypedConfirm } from '../../components/TypedConfirm.js';
import type { RestorePlan } from '../../engine-facade.js';
import { useUi } from '../../use-ui.js';
import type { RestoreLayout } from './layout.js';

/**
 * The plan (nothing changed yet), scrolled when it does not fit; below it the sessions that will be
 * closed, the refusals in boxes, and the confirmation word when nothing refuses.
 */
export function PlanStep(props: {
  plan: RestorePlan | null;
  layout: RestoreLayout;
  scrollTop: number;
  confirming: boolean;
  busyText: string | null;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const { t, theme } = useUi();
  const { plan, layout } = props;
  const footer = (
    <>
      {layout.footer.map((rows, i) =>
        plan && i >= layout.footer.length - plan.refusals.length ? (
          <Box key={i} flexDirection="column" borderStyle={theme.border} borderColor={theme.colors.error} paddingX={1}>
            <Rows rows={rows} />
          </Box>
        ) : (
          <Rows key={i} rows={rows} />
        ),
      )}
      {props.confirming ? (
        <Box marginTop={1}>
          <TypedConfirm
            word={t.confirmWord}
            prompt={t.restore.typeWord(t.confirmWord)}
            onCancel={props.onCancel}
            onConfirm={props.onConfirm}
          />
        </Box>
      ) : null}
    </>
  );
  return (
    <Screen title={t.restore.planTitle} help={layout.help} footer={footer}>
      {props.busyText ? <Text>{props.busyText}</Text> : null}
      {plan ? <ScrollRows rows={layout.rows} height={layout.height} top={props.scrollTop} /> : null}
    </Screen>
  );
}
