/**
 * An error longer than the screen (a restore "as of" a time naming twelve databases with long names, and the sets
 * passed over for each) at 80×24: its first lines, how many more, and the hint (what to do) whole, inside the box.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { RespaldoError } from '../src/core/errors.js';
import { ErrorBox } from '../src/ui/components/ErrorBox.js';
import { Screen } from '../src/ui/components/Screen.js';
import { cleanupSized, frameProblems, renderSized, waitFrame } from './ui-fake-facade.js';

afterEach(() => {
  cleanup();
  cleanupSized();
});

describe('ErrorBox at 80×24', () => {
  it('a message of thirty lines: its first lines, "… and N more line(s)", the hint whole, the box closed', async () => {
    const names = Array.from(
      { length: 12 },
      (_, i) => `base_de_datos_contabilidad_sucursal_numero_${String(i + 1).padStart(2, '0')}_con_nombre_largo_`,
    );
    const message = `No set of ${names.join(', ')} ends at or before 2026-12-05 09:15:00 (passed over: ${names.join(', ')})`;
    const hint = 'Choose a later time or fewer databases, or look at the sets (List backups; respaldo list).';
    const { lastFrame } = renderSized(
      <Screen title="Restore" help="Enter or Esc to go back">
        <ErrorBox error={new RespaldoError('notFound', message, hint)} />
      </Screen>,
    );
    const frame = await waitFrame(lastFrame, (x) => /more line\(s\)/.test(x));
    expect(frameProblems(frame), frame).toEqual([]);
    expect(frame).toContain('Error: No set of');
    expect(frame.replace(/[│\s]+/g, ' ')).toContain(`What to do: ${hint}`);
    expect(frame).toMatch(/└─+┘/);
  });
});
