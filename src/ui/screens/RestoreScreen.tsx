import { useEffect, useRef, useState } from 'react';
import { Box } from 'ink';
import { ErrorBox } from '../components/ErrorBox.js';
import { unlockingText } from '../components/PassphrasePrompt.js';
import { Rows } from '../components/Rows.js';
import { Screen } from '../components/Screen.js';
import type { RestorePlan } from '../engine-facade.js';
import {
  deriveWizard,
  escapesWait,
  initialWizardState,
  restoreWizard,
  waitsOnEngine,
  type ErrorBack,
  type WizardEffect,
  type WizardEvent,
  type WizardState,
} from '../restore-wizard.js';
import { useInterrupt } from '../use-interrupt.js';
import { useHeldKeys, useKeys } from '../use-keys.js';
import { useProgress } from '../use-progress.js';
import { useBodyRows, useScreenSize } from '../use-screen-size.js';
import { useTick } from '../use-tick.js';
import { useUi } from '../use-ui.js';
import { AtStep } from './restore/AtStep.js';
import { ItemsStep } from './restore/ItemsStep.js';
import { PassphraseStep } from './restore/PassphraseStep.js';
import { SourceStep } from './restore/SourceStep.js';
import { restoreLayout } from './restore/layout.js';
import { PlanStep } from './restore/PlanStep.js';
import { OutcomeStep, RunningStep } from './restore/RunSteps.js';
import { SessionsStep } from './restore/SessionsStep.js';
import { SetStep } from './restore/SetStep.js';
import { DrillScreen } from './DrillScreen.js';
import { TablesStep } from './restore/TablesStep.js';
import { PathsStep, PATH_CHOICES } from './restore/PathsStep.js';
import { planRows } from './restore-rows.js';

export { connectedSessions, mayCloseSessions } from '../restore-wizard.js';

/**
 * Option 4: the restore wizard (src/ui/restore-wizard.ts, a pure reducer) drawn one step at a
 * time (screens/restore/). This component only holds the wizard's state, turns keys and the
 * engine's answers into its events, and carries out the effects it asks for (load, plan, run,
 * leave); a drill chosen on the set step is DrillScreen, drawn in its place until it is left.
 */
export function RestoreScreen({
  onBack,
  onDone,
  initialSetId,
  noSetsHere = false,
}: {
  onBack: () => void;
  onDone?: () => void;
  initialSetId?: string;
  /** This server's backup folder holds no set (the header's status): the source step starts on a destination. */
  noSetsHere?: boolean;
}) {
  const ui = useUi();
  const { t, facade } = ui;
  const { columns } = useScreenSize();
  const body = useBodyRows();
  const [state, setState] = useState<WizardState>(() => {
    const cfg = facade.config();
    return initialWizardState(initialSetId, {
      destinations: cfg.destinations,
      databases: cfg.databases.map((d) => d.name),
      noSetsHere,
    });
  });
  // The state the next event applies to: updated at once, so events between two renders chain.
  const current = useRef(state);
  const abort = useRef<AbortController | null>(null);
  const { reporter, progress, reset } = useProgress();
  // Keys typed while the sets load, a plan is made, a set fetched or the key opened wait for the next step (dropped
  // when that fails); Esc that stops the wait is handled at once.
  const failed = useHeldKeys(waitsOnEngine(state), (_, key) => key.escape && escapesWait(current.current));
  // The set table's rows: one line less when damaged sets are named under it.
  const height = Math.max(3, body - 3 - (state.sets?.damaged?.length ? 1 : 0));
  const derived = deriveWizard(state);
  const named = facade.config().namedFile ?? undefined;
  const layout = restoreLayout(state, derived.confirming, ui, { columns, body }, progress, named);
  useTick(500, state.step.name === 'running');

  const dispatch = (event: WizardEvent): void => {
    const { state: next, effect } = restoreWizard(current.current, event);
    current.current = next;
    setState(next);
    if (effect) void run(effect);
  };

  // What a cancelled read of a destination answers later is dropped: each answer is dispatched only
  // when no `cancel` came since it was asked for.
  const generation = useRef(0);
  const listing = useRef<AbortController | null>(null);
  const answer = <T,>(work: Promise<T>, ok: (value: T) => WizardEvent, back: ErrorBack): Promise<void> => {
    const asked = generation.current;
    return work.then(
      (value) => void (asked === generation.current && dispatch(ok(value))),
      (error: unknown) => {
        if (asked === generation.current)
          failed(() => void (asked === generation.current && dispatch({ type: 'failed', error, back })));
      },
    );
  };

  const run = async (effect: WizardEffect): Promise<void> => {
    switch (effect.kind) {
      case 'back':
        return onBack();
      case 'abort':
        abort.current?.abort();
        return;
      case 'cancel':
        generation.current++;
        listing.current?.abort();
        return facade.releaseFetched().catch(() => undefined);
      case 'load-sets': {
        listing.current = new AbortController();
        const filter = effect.from ? { from: effect.from } : undefined;
        return answer(
          facade.listSets(filter, listing.current.signal),
          (sets) => ({ type: 'sets-loaded', sets }),
          'set',
        );
      }
      case 'load-manifest': {
        // A set of this folder comes with what breaks its chain: its steps say BROKEN, as the list does.
        // Its head and first files (readSetDetails): the wizard needs only how many files it has
        const load = effect.from
          ? facade
              .readSetDetails(effect.id, effect.from)
              .then(({ manifest, files }) => ({ manifest, fileCount: files.count }))
          : facade.readSetDetails(effect.id).then(async ({ manifest, files }) => ({
              manifest,
              fileCount: files.count,
              chainProblems: await facade.chainProblems(manifest.id),
            }));
        return answer(load, (loaded) => ({ type: 'manifest-loaded', ...loaded }), 'set');
      }
      case 'plan':
        return answer(facade.planRestore(effect.request), (plan) => ({ type: 'planned', plan }), 'target');
      case 'list-paths':
        return answer(
          facade.storedPathChoices(effect.id, effect.typed, PATH_CHOICES, effect.from),
          (listed) => ({ type: 'paths-listed', listed, complete: effect.complete }),
          'paths',
        );
      case 'check-key':
        return facade.keyLocked(effect.of).then(
          (locked) => dispatch({ type: 'key-checked', locked }),
          (error: unknown) =>
            failed(() => dispatch({ type: 'failed', error, back: 'options' in effect.of ? 'plan' : 'set' })),
        );
      case 'unlock':
        return facade.unlockKey(effect.passphrase, effect.of).then(
          () => dispatch({ type: 'unlocked' }),
          (error: unknown) => failed(() => dispatch({ type: 'unlock-failed', error })),
        );
      case 'execute': {
        reset();
        abort.current = new AbortController();
        try {
          const outcome = await facade.executeRestore(effect.plan, reporter, abort.current.signal);
          dispatch({ type: 'restored', outcome });
        } catch (error) {
          dispatch({ type: 'failed', error, back: 'plan' });
        }
        onDone?.();
        return;
      }
    }
  };

  useEffect(() => {
    dispatch({ type: 'mounted' });
    // A set fetched from a destination for a plan that was not carried out is removed on leaving (a fetch or
    // a listing under way is stopped).
    return () => {
      listing.current?.abort();
      void facade.releaseFetched().catch(() => undefined);
    };
  }, []);
  useEffect(() => {
    if (noSetsHere) dispatch({ type: 'no-sets-here' });
  }, [noSetsHere]);
  useInterrupt(() => dispatch({ type: 'interrupt' }), state.step.name === 'running');
  // A drill chosen on the set step has its own screen, which owns the keys until it is left.
  useKeys(
    (input, key) =>
      dispatch({
        type: 'key',
        input,
        key,
        view: { setPage: height, scrollRows: layout.rows.length, scrollHeight: layout.height },
      }),
    state.step.name !== 'drill',
  );

  const busyTexts = {
    loading: t.common.loading,
    planning: t.restore.planning,
    fetching: t.restore.fetching,
    unlocking: unlockingText(t, state.keyLock),
  };
  const busyText = state.busy ? busyTexts[state.busy] : null;
  const { step } = state;
  switch (step.name) {
    case 'error':
      return (
        <Screen title={t.restore.title} help={t.help.done}>
          <ErrorBox error={step.error} />
        </Screen>
      );
    case 'source':
      return <SourceStep state={state} />;
    case 'drill':
      return (
        <DrillScreen
          id={step.id}
          {...(state.from ? { from: state.from } : {})}
          onBack={() => dispatch({ type: 'drill-left' })}
          {...(onDone ? { onDone } : {})}
        />
      );
    case 'at':
      return <AtStep state={state} />;
    case 'passphrase':
      return (
        <PassphraseStep
          lock={state.keyLock}
          setId={state.manifest?.id ?? state.plan?.setId ?? ''}
          length={state.passphrase.length}
          error={state.keyError}
          busyText={busyText}
          beforeItems={state.keyFirst}
        />
      );
    case 'set':
      return <SetStep state={state} derived={derived} height={height} busyText={busyText} />;
    case 'items':
    case 'target':
      return <ItemsStep state={state} derived={derived} busyText={busyText} />;
    case 'tables':
      return <TablesStep state={state} derived={derived} />;
    case 'paths':
      return <PathsStep state={state} busyText={busyText} />;
    case 'sessions':
      return <SessionsStep plan={state.plan} choice={step.choice} />;
    case 'plan':
      return (
        <PlanStep
          plan={state.plan}
          layout={layout}
          scrollTop={state.scrollTop}
          confirming={derived.confirming}
          busyText={busyText}
          onConfirm={() => dispatch({ type: 'confirmed' })}
          onCancel={() => dispatch({ type: 'confirm-cancelled' })}
        />
      );
    case 'running':
      return <RunningStep progress={progress} interruptWarned={step.interruptWarned} />;
    case 'outcome':
      return <OutcomeStep outcome={step.outcome} progress={progress} layout={layout} scrollTop={state.scrollTop} />;
  }
}

/** The whole plan, folded to the terminal's width (see planRows). */
export function PlanView({ plan }: { plan: RestorePlan }) {
  const ui = useUi();
  const { columns } = useScreenSize();
  return (
    <Box flexDirection="column">
      <Rows rows={planRows(plan, ui, columns)} />
    </Box>
  );
}
