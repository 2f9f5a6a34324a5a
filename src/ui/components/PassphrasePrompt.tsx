import { useState } from 'react';
import { Box, Text } from 'ink';
import { editText, isCtrlC, useKeys } from '../use-keys.js';
import { useUi } from '../use-ui.js';
import { ErrorBox } from './ErrorBox.js';
import { Screen } from './Screen.js';
import { TextField } from './TextField.js';

/**
 * The passphrase of a protected identity file: one mask character per typed character, never the
 * text; the last failure (a wrong passphrase) above the field; what is being done below it.
 */
export function PassphraseView(props: {
  title: string;
  help: string;
  length: number;
  error: unknown;
  busyText: string | null;
}) {
  const { t, theme, facade } = useUi();
  return (
    <Screen title={props.title} help={props.help}>
      <Text wrap="wrap">{t.restore.passphraseIntro(facade.config().identityFile ?? '')}</Text>
      {props.error ? <ErrorBox error={props.error} /> : null}
      <Box marginTop={1}>
        <TextField label={t.restore.passphraseLabel} value={'*'.repeat(props.length)} focused={!props.busyText} />
      </Box>
      {props.busyText ? <Text color={theme.colors.muted}>{props.busyText}</Text> : null}
    </Screen>
  );
}

/**
 * Asks the passphrase and opens the key with it (facade.unlockKey); a wrong one is shown and asked
 * again. `onUnlocked` once the key is open, `onCancel` on Esc. The typed text is only held until Enter.
 */
export function PassphrasePrompt({
  title,
  onUnlocked,
  onCancel,
}: {
  title: string;
  onUnlocked: () => void;
  onCancel: () => void;
}) {
  const { t, facade } = useUi();
  const [text, setText] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useKeys((input, key) => {
    if (busy || isCtrlC(input, key)) return;
    if (key.escape) return onCancel();
    if (key.return) {
      if (!text) return;
      setBusy(true);
      setText('');
      facade.unlockKey(text).then(onUnlocked, (err: unknown) => {
        setError(err);
        setBusy(false);
      });
      return;
    }
    const edited = editText(text, input, key);
    if (edited !== null) setText(edited);
  });
  return (
    <PassphraseView
      title={title}
      help={t.help.passphraseBack}
      length={text.length}
      error={error}
      busyText={busy ? t.restore.unlocking : null}
    />
  );
}
