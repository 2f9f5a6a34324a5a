import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { notify, testEvent } from '../../notify/notify.js';
import { addCommonOptions, runAction } from '../context.js';

export function register(program: Command): void {
  addCommonOptions(
    program
      .command('notify')
      .description('notification channels (email, webhooks): --test sends a test message to each')
      .option('--test', 'send a test message to every configured channel'),
  ).action(
    runAction({ test: 'flag' }, async (io, opts) => {
      if (!opts.test)
        throw new UsageError('Nothing to do.', 'Run `respaldo notify --test` to send a test message to every channel.');
      const cfg = await io.config();
      if (!cfg.notifications?.length) {
        throw new UsageError(
          `No notification channels in ${cfg.file}.`,
          'Add "notifications": [{ "type": "email", … }] (see README: Alerts).',
        );
      }
      const results = await notify(cfg, testEvent());
      if (io.json) io.printJson(results);
      else
        for (const r of results) {
          io.out(`${r.ok ? 'sent  ' : 'FAILED'} ${r.channel} (${r.type})${r.error ? `: ${r.error}` : ''}`);
          if (r.hint) io.out(`       ${r.hint}`);
        }
      return results.every((r) => r.ok) ? EXIT.ok : EXIT.failed;
    }),
  );
}
