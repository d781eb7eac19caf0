// Bundles the bin after `tsc` (npm run build): dist/cli/main.js becomes one code-split, compacted bundle of the
// command (our modules, zod, undici, xstate, the MCP SDK, the prompt library), its lazily loaded parts in chunks
// beside it (dist/cli/bin-*.mjs). A whole `tokenhub-setup --base-url ... --json` run loaded ~470 modules, and
// resolving and instantiating them one by one was most of its start-up (issue 15): bundled, the run took 0.88x
// the `openai` client's script instead of 1.42x (bench/startup.ts).
//
// Only the bin: the library's files (dist/index.js, the `./simulator` and `./mcp` exports, the OpenClaw entry)
// stay tsc's one module per source file, sharing one copy of each dependency with the host that imports them. A
// process running the bin is its own, so its copies of zod, undici and xstate meet no other copy.
//
// `--help`, `-h`, `help`, `--version`, `-v` and `version` alone are answered by main.js from a table rendered here
// by the command itself (tsc's unbundled output, run as a person would), so they load nothing else.
//
// What stays outside the bundle: keytar (optional and native; tests point it at a fake with a resolve hook).
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

const cli = fileURLToPath(new URL("../dist/cli/", import.meta.url));
const entry = join(cli, "main.js");

/**
 * Node's own modules through `process.getBuiltinModule`, never as ES imports: an ES import of a builtin makes a
 * module of its whole export list, and esbuild's interop copies every property of a CommonJS-style object;
 * either way each lazy export's loader runs (for node:util: its diff, worker and stream modules, ~6 ms of
 * --help). A `require` gets the module itself; an `import` gets one export per name it uses (esbuild drops the
 * unused ones, marked pure), each read from the module once at load.
 */
const builtinsByName: Plugin = {
  name: "builtins-by-name",
  setup(b) {
    const names = new Set(builtinModules.flatMap((n) => [n, `node:${n}`]));
    const require = createRequire(import.meta.url);
    b.onResolve({ filter: /^[a-z_:/]+$/ }, ({ path, kind }) =>
      names.has(path) || path.startsWith("node:")
        ? {
            path: path.startsWith("node:") ? path : `node:${path}`,
            namespace: kind === "require-call" ? "builtin-cjs" : "builtin-esm",
          }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "builtin-cjs" }, ({ path }) => ({
      contents: `module.exports = process.getBuiltinModule(${JSON.stringify(path)});`,
      loader: "js",
    }));
    b.onLoad({ filter: /.*/, namespace: "builtin-esm" }, ({ path }) => {
      const keys = Object.getOwnPropertyNames(require(path)).filter(
        (k) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== "default",
      );
      return {
        contents: [
          `const __builtin = process.getBuiltinModule(${JSON.stringify(path)});`,
          "const __read = (name) => __builtin[name];",
          "export default __builtin;",
          ...keys.map((k) => `export const ${k} = /* @__PURE__ */ __read(${JSON.stringify(k)});`),
        ].join("\n"),
        loader: "js",
      };
    });
  },
};

// tsc's main.js reads the table from TOKENHUB_PRERENDERED; a bundle has it replaced. Bundling a bundle (this
// script run twice by hand) would render from the old table and add a second set of chunks.
if (!readFileSync(entry, "utf8").includes("TOKENHUB_PRERENDERED")) {
  throw new Error(`${entry} is already bundled: run \`npm run build\`, which starts from tsc's output`);
}

/** The one-word questions main.js answers from the table (src/cli/main.ts). */
const PRERENDER = ["--help", "-h", "help", "--version", "-v", "version"];

/**
 * What the unbundled command prints for each of PRERENDER, run twice in unlike environments (colour, terminal,
 * width, locale): an answer that differs, fails or writes to stderr cannot be pre-rendered, and fails the build.
 */
function prerender(): Record<string, string> {
  const envs = [
    { PATH: process.env.PATH ?? "" },
    { PATH: process.env.PATH ?? "", NO_COLOR: "1", TERM: "dumb", COLUMNS: "40", LANG: "C" },
  ];
  const table: Record<string, string> = {};
  for (const asked of PRERENDER) {
    const answers = envs.map((env) => {
      const run = spawnSync(process.execPath, [entry, asked], { env, encoding: "utf8", stdio: "pipe" });
      if (run.status !== 0 || run.stderr !== "" || run.stdout === "") {
        throw new Error(`tokenhub-setup ${asked} exited ${run.status} with ${JSON.stringify(run.stderr)}`);
      }
      return run.stdout;
    });
    if (answers[0] !== answers[1]) throw new Error(`tokenhub-setup ${asked} depends on the environment`);
    table[asked] = answers[0] as string;
  }
  return table;
}

const result = await build({
  entryPoints: { main: entry },
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node22",
  // Whitespace and syntax, not names: a stack under --verbose names the functions it passed through
  // (createSession, request, ...), which a bug report needs; minified names were letters in a 1.9 MB file.
  // Source maps would say more but weigh 2.1 MB (more than the bundle); the names cost 0.6 MB.
  minifyWhitespace: true,
  minifySyntax: true,
  // Our errors name themselves after their class (`this.name = new.target.name`): minified, they would not.
  keepNames: true,
  external: ["keytar"],
  // Chunks sit beside main.js, so a module that finds files relative to itself (the simulator's scenarios,
  // ../../fixtures) finds them at the same depth. `.mjs`: the chunks are no module of a source file (dist/ holds
  // one .js per source file, test/package/pack.test.ts).
  outdir: cli,
  chunkNames: "bin-[hash]",
  outExtension: { ".js": ".mjs" },
  // undici is CommonJS and requires Node's modules: an ES bundle needs a `require` to give it.
  banner: {
    js: 'import { createRequire as __bundleRequire } from "node:module";\nconst require = __bundleRequire(import.meta.url);',
  },
  // As a string literal, which stays in main.js: an object literal would be moved to a shared chunk and cost
  // two more modules to load before the answer.
  define: { "globalThis.TOKENHUB_PRERENDERED": JSON.stringify(JSON.stringify(prerender())) },
  plugins: [builtinsByName],
  write: false,
  logLevel: "warning",
});

// The bundle holds everything the bin runs, so tsc's files for src/cli (modules and their types) would only
// ride along in the package: nothing imports them (the library's exports do not reach src/cli).
for (const name of readdirSync(cli)) rmSync(join(cli, name), { recursive: true, force: true });

// esbuild refuses to overwrite its input (hence write: false and the clearing above after reading it): the
// entry over main.js, the chunks beside it.
for (const file of result.outputFiles) {
  const target = basename(file.path) === "main.mjs" ? entry : file.path;
  writeFileSync(target, file.contents);
}
