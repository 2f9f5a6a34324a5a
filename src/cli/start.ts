import { EXIT } from '../core/exit-codes.js';
import { boundYoungGeneration } from '../engine/garbage.js';
import { errorWidth, foldLine } from './format.js';
import { main } from './program.js';
import { exitWhenFlushed, guardStdio } from './terminal.js';

guardStdio();
boundYoungGeneration();
// The event loop emptied while a command still waited on something that can never settle (a library that
// forgot to reject): without this, Node ends with status 13 ("unsettled top-level await") and nothing said.
process.once('beforeExit', () => {
  process.stderr.write(
    foldLine(
      'respaldo: internal error: the command stopped waiting on an operation that can never finish (a bug); ' +
        'what it did not finish was not done.\nhint: run it again; if it happens again, report it with the log.\n',
      errorWidth(),
    ),
  );
  void exitWhenFlushed(EXIT.internal);
});
const code = await main(process.argv.slice(2));
await exitWhenFlushed(code);
