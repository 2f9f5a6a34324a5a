import { Box } from 'ink';
import { RespaldoError, asOperatorError } from '../../core/errors.js';
import { sayInMenu, sayMessage } from '../i18n/index.js';
import { wrapWords } from '../../core/format.js';
import { useBodyRows, useScreenSize } from '../use-screen-size.js';
import { useUi } from '../use-ui.js';
import { Para } from './Para.js';

/** Message and hint of an error the operator can act on; a bug gets its message and a bug hint, never a stack. */
export function describeError(caught: unknown, bugHint: string): { message: string; hint: string } {
  const err = asOperatorError(caught);
  if (err && typeof err === 'object' && 'message' in err) {
    const e = err as { message: unknown; hint?: unknown; name?: unknown };
    const message = String(e.message);
    if (typeof e.hint === 'string' && e.hint) return { message, hint: e.hint };
    if ('kind' in err) return { message, hint: '' };
    return { message, hint: bugHint };
  }
  return { message: String(err), hint: bugHint };
}

export function ErrorBox({ error }: { error: unknown }) {
  const { t, lang, theme } = useUi();
  const described = describeError(error, t.common.bugHint);
  // a raw permission or disk-full error is said as the operator error it is, in the menu's language
  const said = asOperatorError(error);
  const phrases = said instanceof RespaldoError ? said.phrases : undefined;
  const message = sayMessage(lang, phrases, described.message, theme.unicode);
  const hint = sayInMenu(lang, phrases?.hint, described.hint, theme.unicode);
  // A message naming many databases is longer than the screen: its first lines, and the hint (what to do) whole.
  const { columns } = useScreenSize();
  const body = useBodyRows();
  const hintLines = hint ? wrapWords(`${t.common.hint}: ${hint}`, Math.max(10, columns - 4)).length : 0;
  return (
    <Box flexDirection="column" borderStyle={theme.border} borderColor={theme.colors.error} paddingX={1}>
      <Para color={theme.colors.error} bold maxLines={Math.max(2, body - 3 - hintLines)} more={t.common.moreLines}>
        {`${t.common.error}: ${message}`}
      </Para>
      {hint ? <Para>{`${t.common.hint}: ${hint}`}</Para> : null}
    </Box>
  );
}
