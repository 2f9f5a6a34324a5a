import { useState } from 'react';
import { Box, Text } from 'ink';
import type { KeyLock, KeySubject } from '../engine-facade.js';
import { editText, isCtrlC, useHeldKeys, useKeys } from '../use-keys.js';
import { useUi } from '../use-ui.js';
import { ErrorBox } from './ErrorBox.js';
import { Screen } from './Screen.js';
import { TextField } from './TextField.js';
import { Para } from './Para.js';

/**
 * A passphrase the menu asks before decrypting: of a protected identity file (`identity`), or of a set
 * encrypted to a passphrase no file gives (`passphrase`, for set `setId`). One mask character per typed
 * character, never the text; the last failure (a wrong passphrase) above the field; what is being done
 * below it. The title is `titlePrefix` and whose passphrase it is.
 */
export function PassphraseView(props: {
  titlePrefix: string;
  lock: KeyLock | null;
  setId: string;
  help: string;
  length: number;
  error: unknown;
  busyText: string | null;
}) {
  const { t, theme, facade } = useUi();
  const ofSet = props.lock === 'passphrase';
  return (
    <Screen
      title={`${props.titlePrefix}: ${ofSet ? t.restore.setPassphraseTitle : t.restore.passphraseTitle}`}
      help={props.help}
    >
      <Para>
        {ofSet
          ? t.restore.setPassphraseIntro(props.setId)
          : t.restore.passphraseIntro(facade.config().identityFile ?? '')}
      </Para>
      {props.error ? <ErrorBox error={props.error} /> : null}
      <Box marginTop={1}>
        <TextField label={t.restore.passphraseLabel} value={'*'.repeat(props.length)} focused={!props.busyText} />
      </Box>
      {props.busyText ? <Text color={theme.colors.muted}>{props.busyText}</Text> : null}
    </Screen>
  );
}

/** What the screen waits for while a typed passphrase is checked: the key opening, or the passphrase of a set. */
export function unlockingText(t: ReturnType<typeof useUi>['t'], lock: KeyLock | null): string {
  return lock === 'passphrase' ? t.restore.checkingPassphrase : t.restore.unlocking;
}

/**
 * Asks the passphrase `lock` names for `of` (facade.keyLocked's answer) and opens it (facade.unlockKey); a
 * wrong one is shown and asked again (keys typed ahead while it was opened are dropped; once open they go to the
 * screen that follows). `onUnlocked` once open, `onCancel` on Esc (nothing is changed). The
 * typed text is only held until Enter.
 */
export function PassphrasePrompt({
  titlePrefix,
  lock,
  of,
  onUnlocked,
  onCancel,
}: {
  titlePrefix: string;
  lock: KeyLock;
  of: KeySubject & { setId: string };
  onUnlocked: () => void;
  onCancel: () => void;
}) {
  const { t, facade } = useUi();
  const [text, setText] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // Keys typed while the key opens are for the screen that comes next; after a wrong passphrase, dropped.
  const failed = useHeldKeys(busy);
  useKeys((input, key) => {
    if (busy || isCtrlC(input, key)) return;
    if (key.escape) return onCancel();
    if (key.return) {
      if (!text) return;
      setBusy(true);
      setText('');
      facade.unlockKey(text, of).then(onUnlocked, (err: unknown) =>
        failed(() => {
          setError(err);
          setBusy(false);
        }),
      );
      return;
    }
    const edited = editText(text, input, key);
    if (edited !== null) setText(edited);
  });
  return (
    <PassphraseView
      titlePrefix={titlePrefix}
      lock={lock}
      setId={of.setId}
      help={t.help.passphraseBack}
      length={text.length}
      error={error}
      busyText={busy ? unlockingText(t, lock) : null}
    />
  );
}
