import { PassphraseView } from '../../components/PassphrasePrompt.js';
import { useUi } from '../../use-ui.js';

/** The passphrase of a protected identity file, asked after the confirmation word (keys: restore-wizard-steps.ts). */
export function PassphraseStep({
  length,
  error,
  busyText,
}: {
  length: number;
  error: unknown;
  busyText: string | null;
}) {
  const { t } = useUi();
  return (
    <PassphraseView
      title={`${t.restore.title}: ${t.restore.passphraseTitle}`}
      help={t.help.passphrase}
      length={length}
      error={error}
      busyText={busyText}
    />
  );
}
