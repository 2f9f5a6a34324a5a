import type { ReactNode } from 'react';
import { KeyRoot } from './use-keys.js';
import { UiContext, type UiContextValue } from './use-ui.js';

/** Strings, theme, facade and the key dispatcher for everything below (the app and the frame tests). */
export function UiRoot({ value, children }: { value: UiContextValue; children: ReactNode }) {
  return (
    <UiContext.Provider value={value}>
      <KeyRoot>{children}</KeyRoot>
    </UiContext.Provider>
  );
}
