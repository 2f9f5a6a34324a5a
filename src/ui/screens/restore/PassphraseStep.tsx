import { PassphraseView } from '../../components/PassphrasePrompt.js';
import type { KeyLock } from '../../engine-facade.js';
import { useUi } from '../../use-ui.js';

/**
 * The passphrase of a protected identity file or of a set encrypted to a passphrase, asked after the
 * confirmation word (keys: restore-wizard-steps.ts).
 */
export function PassphraseStep({
  lock,
  setId,
  length,
  error,
  busyText,
  beforeItems,
}: {
  lock: KeyLock | null;
  setId: string;
  length: number;
  error: unknown;
  busyText: string | null;
  /** Asked before the items (an encrypted delta at a destination; Esc goes back to the sets). */
  beforeItems: boolean;
}) {
  const { t } = useUi();
  return (
    <PassphraseView
      titlePrefix={t.restore.title}
      lock={lock}
      setId={setId}
      help={beforeItems ? t.help.passphraseBack : t.help.passphrase}
      length={length}
      error={error}
      busyText={busyText}
    />
  );
}
