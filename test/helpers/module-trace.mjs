// Preloaded with `node --import` by tests that check what a command loads: appends the URL of every module
// loaded (ES modules and require()d CommonJS alike, node: builtins excepted) to the file named by
// RESPALDO_MODULE_TRACE, one per line; at exit, Node's own modules the process loaded, as `node-internal:NAME`
// (undici, for one, is loaded by node:http's ESM facade).
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const out = process.env.RESPALDO_MODULE_TRACE;
if (out) {
  registerHooks({
    load(url, context, nextLoad) {
      if (!url.startsWith('node:')) appendFileSync(out, `${url}\n`);
      return nextLoad(url, context);
    },
  });
  process.on('exit', () => {
    const internal = process.moduleLoadList.filter((m) => m.startsWith('NativeModule '));
    appendFileSync(out, internal.map((m) => `node-internal:${m.slice('NativeModule '.length)}\n`).join(''));
  });
}
