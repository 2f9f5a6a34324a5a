import type { Key } from 'ink';
import { ambiguousAtTime, atInFuture, parseAtTime } from '../engine/chain.js';
import type { Transition, WizardState } from './restore-wizard.js';
import { editText, isDown, isUp } from './use-keys.js';

/*
 * The keys of the restore wizard's steps added for off-site copies, chains and encrypted keys
 * (pure, like restore-wizard.ts, which dispatches to them):
 * - source: restore from this server's backup folder or from one of the configured destinations;
 * - at: "as of a date and time": the time and the databases, then the same target step and plan;
 * - passphrase: the passphrase of the identity file or of the set, asked after the confirmation word, masked.
 */

const stay = (state: WizardState): Transition => ({ state, effect: null });

/** Rows of the source step: the backup folder, then each destination. */
export function sourceRows(s: WizardState): number {
  return 1 + s.destinations.length;
}

export function onSourceKey(s: WizardState, input: string, key: Key): Transition {
  if (key.escape) return { state: s, effect: { kind: 'back' } };
  if (isUp(input, key)) return stay({ ...s, sourceIndex: Math.max(0, s.sourceIndex - 1), sourceMoved: true });
  if (isDown(input, key))
    return stay({ ...s, sourceIndex: Math.min(sourceRows(s) - 1, s.sourceIndex + 1), sourceMoved: true });
  if (!key.return) return stay(s);
  const from = s.sourceIndex === 0 ? null : (s.destinations[s.sourceIndex - 1] ?? null);
  return {
    state: { ...s, from, sets: null, setIndex: 0, manifest: null, at: null, step: { name: 'set' } },
    effect: from ? { kind: 'load-sets', from } : { kind: 'load-sets' },
  };
}

/** The at step: row 0 is the time, then one row per configured database (checked: restored). */
export function onAtKey(s: WizardState, input: string, key: Key): Transition {
  if (key.escape) return stay({ ...s, problem: null, step: { name: 'set' } });
  if (key.upArrow) return stay({ ...s, atCursor: Math.max(0, s.atCursor - 1) });
  if (key.downArrow) return stay({ ...s, atCursor: Math.min(s.databases.length, s.atCursor + 1) });
  if (key.return) {
    const when = parseAtTime(s.atText);
    if (!when) return stay({ ...s, atCursor: 0, problem: ambiguousAtTime(s.atText) ? 'ambiguousTime' : 'badTime' });
    if (atInFuture(when, new Date())) return stay({ ...s, atCursor: 0, problem: 'futureTime' });
    if (!s.atPicks.some(Boolean)) return stay({ ...s, problem: 'nothingPicked' });
    return stay({ ...s, at: when.toISOString(), problem: null, sideBySide: false, step: { name: 'target' } });
  }
  if (s.atCursor === 0) {
    const edited = editText(s.atText, input, key);
    return edited === null ? stay(s) : stay({ ...s, atText: edited, problem: null });
  }
  if (isUp(input, key)) return stay({ ...s, atCursor: s.atCursor - 1 });
  if (isDown(input, key)) return stay({ ...s, atCursor: Math.min(s.databases.length, s.atCursor + 1) });
  if (input === ' ')
    return stay(
      withAtPicks(
        s,
        s.atPicks.map((v, i) => (i === s.atCursor - 1 ? !v : v)),
      ),
    );
  if (input === 'a')
    return stay(
      withAtPicks(
        s,
        s.atPicks.map(() => true),
      ),
    );
  return stay(s);
}

/** The at step with `atPicks`: 'choose at least one' goes once a database is ticked (a time's problem stays). */
function withAtPicks(s: WizardState, atPicks: boolean[]): WizardState {
  const chosen = s.problem === 'nothingPicked' && atPicks.some(Boolean);
  return { ...s, atPicks, ...(chosen ? { problem: null } : {}) };
}

/** The passphrase step: typed characters are kept (never drawn), Enter opens the key, Esc goes back to the plan. */
export function onPassphraseKey(s: WizardState, input: string, key: Key): Transition {
  if (key.escape) {
    const back = s.keyFirst ? ({ name: 'set' } as const) : ({ name: 'plan' } as const);
    return stay({ ...s, passphrase: '', keyError: null, keyFirst: false, step: back });
  }
  if (key.return) {
    const of = s.keyFirst && s.manifest ? { setId: s.manifest.id, ...(s.from ? { from: s.from } : {}) } : s.plan;
    if (!s.passphrase || !of) return stay(s);
    return {
      state: { ...s, passphrase: '', keyError: null, busy: 'unlocking' },
      effect: { kind: 'unlock', passphrase: s.passphrase, of },
    };
  }
  const edited = editText(s.passphrase, input, key);
  return edited === null ? stay(s) : stay({ ...s, passphrase: edited });
}
