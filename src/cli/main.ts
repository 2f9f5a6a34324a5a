// The first thing the process does is take Ctrl-C and SIGTERM (early-signals.ts, which imports nothing): the
// command's modules take a few tenths of a second to load, and a signal then ended the process with status 143.
import { takeEarlySignals } from './early-signals.js';

takeEarlySignals();
await import('./start.js');
