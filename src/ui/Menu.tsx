import { useCallback, useMemo, useRef, useState } from 'react';
import { Box, useApp } from 'ink';
import { Header, headerModel, noSetsHere } from './components/Header.js';
import type { HeaderStatus } from './engine-facade.js';
import { ConfigureScheduleScreen } from './screens/ConfigureScheduleScreen.js';
import { CreateScreen } from './screens/CreateScreen.js';
import { DrillScreen } from './screens/DrillScreen.js';
import { HealthScreen } from './screens/HealthScreen.js';
import { ListScreen } from './screens/ListScreen.js';
import { MainMenuScreen, type MainChoice } from './screens/MainMenuScreen.js';
import { RestoreScreen } from './screens/RestoreScreen.js';
import { SchedulerScreen } from './screens/SchedulerScreen.js';
import { SetDetailsScreen } from './screens/SetDetailsScreen.js';
import { useLoad } from './use-async.js';
import { useTick } from './use-tick.js';
import { InterruptContext, type InterruptRegistry } from './use-interrupt.js';
import { isCtrlC, useKeys } from './use-keys.js';
import { BodyRowsContext, useScreenSize } from './use-screen-size.js';
import { useUi } from './use-ui.js';

/** Where the operator is. Screens opened from another one go back to it with Esc. */
export type Route =
  | { name: 'main' }
  | { name: 'create' }
  | { name: 'schedule' }
  | { name: 'list' }
  | { name: 'details'; id: string }
  | { name: 'drill'; id: string }
  | { name: 'restore'; setId?: string }
  | { name: 'scheduler' }
  | { name: 'health' };

/**
 * The menu: header (config, backup folder, sets, newest age, staleness warnings) over the current
 * screen. Ctrl-C goes to the running screen's interrupt handler when it has one, else quits the menu as
 * interrupted (nothing is running then: a question, such as a plan or a passphrase, is left unanswered and
 * nothing was changed); q or 7 on the main menu quit it normally. `onExit` is called once when the operator
 * quits, `interrupted` when by Ctrl-C (the menu then exits 130, as a command stopped by Ctrl-C).
 */
export function Menu({ onExit, initial }: { onExit?: (interrupted: boolean) => void; initial?: Route[] }) {
  const ui = useUi();
  const { facade } = ui;
  const { exit } = useApp();
  const { rows, columns } = useScreenSize();
  const [stack, setStack] = useState<Route[]>(initial ?? [{ name: 'main' }]);
  const [refresh, setRefresh] = useState(0);
  const route = stack[stack.length - 1]!;
  // The header is read again on every screen change, after anything that changes the sets, and
  // every 30 s (the newest set's age).
  const tick = useTick(30_000);
  const [loaded] = useLoad<HeaderStatus>(() => facade.status(), [refresh, stack, tick]);
  const lastStatus = useRef<HeaderStatus | null>(null);
  if (loaded.state === 'done') lastStatus.current = loaded.value;
  const status =
    loaded.state === 'loading' && lastStatus.current ? { state: 'done' as const, value: lastStatus.current } : loaded;
  const interrupt = useRef<(() => void) | null>(null);
  const registry = useMemo<InterruptRegistry>(() => ({ set: (h) => (interrupt.current = h) }), []);
  const lastMain = useRef(0);

  const quit = useCallback(
    (interrupted = false) => {
      onExit?.(interrupted);
      exit();
    },
    [exit, onExit],
  );
  const push = (r: Route): void => setStack((s) => [...s, r]);
  const back = (): void => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s));
  const reloadHeader = (): void => setRefresh((n) => n + 1);

  useKeys((input, key) => {
    if (!isCtrlC(input, key)) return;
    if (interrupt.current) interrupt.current();
    else quit(true);
  });

  const choose = (c: MainChoice): void => {
    lastMain.current = c - 1;
    switch (c) {
      case 1:
        return push({ name: 'create' });
      case 2:
        return push({ name: 'schedule' });
      case 3:
        return push({ name: 'list' });
      case 4:
        return push({ name: 'restore' });
      case 5:
        return push({ name: 'scheduler' });
      case 6:
        return push({ name: 'health' });
      case 7:
        return quit();
    }
  };

  let screen;
  switch (route.name) {
    case 'main':
      screen = <MainMenuScreen onChoose={choose} initial={lastMain.current} />;
      break;
    case 'create':
      screen = <CreateScreen onBack={back} onDone={reloadHeader} />;
      break;
    case 'schedule':
      screen = <ConfigureScheduleScreen onBack={back} onSaved={reloadHeader} />;
      break;
    case 'list':
      screen = (
        <ListScreen
          onBack={back}
          onOpen={(id) => push({ name: 'details', id })}
          onRestore={(id) => push({ name: 'restore', setId: id })}
          onChanged={reloadHeader}
        />
      );
      break;
    case 'details':
      screen = (
        <SetDetailsScreen
          key={route.id}
          id={route.id}
          onBack={back}
          onRestore={(id) => push({ name: 'restore', setId: id })}
          onDeleted={back}
          onDrill={(id) => push({ name: 'drill', id })}
        />
      );
      break;
    case 'drill':
      screen = <DrillScreen key={route.id} id={route.id} onBack={back} onDone={reloadHeader} />;
      break;
    case 'restore':
      screen = (
        <RestoreScreen
          onBack={back}
          onDone={reloadHeader}
          noSetsHere={status.state === 'done' && noSetsHere(status.value)}
          {...(route.setId ? { initialSetId: route.setId } : {})}
        />
      );
      break;
    case 'scheduler':
      screen = <SchedulerScreen onBack={back} />;
      break;
    case 'health':
      screen = <HealthScreen onBack={back} />;
      break;
  }

  const model = headerModel(facade.config(), status, ui, ui.now(), columns, route.name === 'restore');
  // The frame is one row shorter than the terminal so Ink redraws in place; title + help take 3.
  const bodyRows = rows - 1 - model.height - 3;
  return (
    <InterruptContext.Provider value={registry}>
      <BodyRowsContext.Provider value={bodyRows}>
        <Box flexDirection="column" height={rows - 1} width={columns}>
          <Header model={model} width={columns} />
          {screen}
        </Box>
      </BodyRowsContext.Provider>
    </InterruptContext.Provider>
  );
}
