import { createContext, useContext } from 'react';
import type { EngineFacade } from './engine-facade.js';
import type { Catalogue, Lang } from './i18n/index.js';
import type { Theme } from './theme.js';

/** What every screen and component can reach: strings, theme, the engine facade. */
export interface UiContextValue {
  t: Catalogue;
  lang: Lang;
  theme: Theme;
  facade: EngineFacade;
  /** Clock, replaceable in tests. */
  now: () => Date;
}

export const UiContext = createContext<UiContextValue | null>(null);

export function useUi(): UiContextValue {
  const v = useContext(UiContext);
  if (!v) throw new Error('useUi() outside <UiContext.Provider>');
  return v;
}
