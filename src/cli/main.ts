import { main } from './program.js';
import { exitWhenFlushed, guardStdio } from './terminal.js';

guardStdio();
const code = await main(process.argv.slice(2));
await exitWhenFlushed(code);
