import { Box, Text } from 'ink';
import { ErrorBox } from '../../components/ErrorBox.js';
import { Screen } from '../../components/Screen.js';
import { TextField } from '../../components/TextField.js';
import { useUi } from '../../use-ui.js';

/**
 * The passphrase of a protected identity file, asked after the confirmation word: only one mask
 * character per typed character is drawn, never the text. A wrong one is shown above the field.
 */
export function PassphraseStep({
  length,
  error,
  busyText,
}: {
  length: number;
  error: unknown;
  busyText: string | null;
}) {
  const { t, theme, facade } = useUi();
  return (
    <Screen title={`${t.restore.title}: ${t.restore.passphraseTitle}`} help={t.help.passphrase}>
      <Text wrap="wrap">{t.restore.passphraseIntro(facade.config().identityFile ?? '')}</Text>
      {error ? <ErrorBox error={error} /> : null}
      <Box marginTop={1}>
        <TextField label={t.restore.passphraseLabel} value={'*'.repeat(length)} focused={!busyText} />
      </Box>
      {busyText ? <Text color={theme.colors.muted}>{busyText}</Text> : null}
    </Screen>
  );
}
