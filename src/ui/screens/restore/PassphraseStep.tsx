import { PassphraseView } from '../../components/PassphrasePrompt.js';
import { useUi } from '../../use-ui.js';

/** The passphrase of a protected identity file, asked after the confirmation word (keys: restore-wizard-steps.ts). */
export function PassphraseStep({
  length,
  error,
  busyText,
  beforeItems,
}: {
  length: number;
  error: unknown;
  busyText: string | null;
  /** Asked before the items (an encrypted delta at a destination; Esc goes back to the sets). */
  beforeItems: boolean;
}) {
  const { t } = useUi();
  return (
    <PassphraseView
      title={`${t.restore.title}: ${t.restore.passphraseTitle}`}
      help={beforeItems ? t.help.passphraseBack : t.help.passphrase}
      length={length}
      error={error}
      busyText={busyText}
    />
  );
}
