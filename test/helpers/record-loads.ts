// Preloaded with `node --import` by tests that ask what a process loaded: every module URL that passes through
// the module loader (ours, node_modules, `node:` builtins) is written, one a line, to the file named by
// RECORD_LOADS_TO when the process exits.
import { writeFileSync } from "node:fs";
import { registerHooks } from "node:module";

const loaded: string[] = [];
registerHooks({
  load(url, context, nextLoad) {
    loaded.push(url);
    return nextLoad(url, context);
  },
});
process.on("exit", () => {
  const file = process.env.RECORD_LOADS_TO;
  if (file) writeFileSync(file, `${loaded.join("\n")}\n`);
});
