// Import directions of src/, by layer (design.md, issue 12). A lower layer never imports a higher one:
//   0 contract    src/schema/           zod and other schema files only, no I/O
//   1 foundation  src/secrets/scrubber.ts (a leaf), src/errors.ts, src/log.ts
//   2 services    src/tokenhub/, src/secrets/, src/status/
//   3 machine     src/machine/          pure: no I/O modules, no undici, keytar or pino
//   4 session     src/session/
//   5 adapters    src/cli/, src/openclaw/, src/mcp/, src/key-page/: their own files and the session's face
//                 (src/session/index.ts, or its small face src/session/basics.ts, a part of it that loads no
//                 zod, xstate or undici: a CLI's --help and --version then load only the argument table),
//                 and each the faces of others it names in ADAPTERS below: the CLI
//                 starts the simulator, the MCP server and the key page; the MCP server opens the key page
//   the simulator (src/simulator/) is a product of its own: its own files and src/schema/ only
//   src/index.ts, the package entry, may import anything.
// Type-only imports count: a type import is still knowledge of another layer.
// test/architecture/imports.test.ts runs these rules through the cruise API, with a list of today's violations
// that must match exactly; `npx depcruise src` runs them from a terminal.
import type { IConfiguration, IForbiddenRuleType } from "dependency-cruiser";

/** Node modules that do I/O (or reach the process or the host): not for the pure machine. */
const IO_CORE_MODULES = [
  "fs",
  "net",
  "http",
  "https",
  "http2",
  "tls",
  "dgram",
  "dns",
  "child_process",
  "cluster",
  "worker_threads",
  "readline",
  "tty",
  "os",
  "process",
  "inspector",
  "repl",
  "v8",
  "vm",
];

/**
 * What each adapter may import besides its own folder and the session's face: another part's index (its face),
 * never its insides. One rule per adapter, so a violation names the adapter that broke it.
 */
const ADAPTERS: ReadonlyArray<{ dir: string; alsoFaces: readonly string[]; why: string }> = [
  { dir: "openclaw", alsoFaces: [], why: "the OpenClaw plugin" },
  { dir: "key-page", alsoFaces: [], why: "the key-entry page (a browser's view of Step-2)" },
  { dir: "mcp", alsoFaces: ["key-page"], why: "the MCP server, which opens the key page for Step-2" },
  {
    dir: "cli",
    alsoFaces: ["simulator", "mcp", "key-page"],
    why: "the command line, the process entry of --simulate, `mcp` and --key-page",
  },
];

function adapterRule({ dir, alsoFaces, why }: (typeof ADAPTERS)[number]): IForbiddenRuleType {
  const faces = alsoFaces.map((face) => `src/${face}/index.ts`);
  return {
    name: `${dir}-through-faces`,
    comment: `src/${dir}/ (${why}) imports its own files, src/session/index.ts or basics.ts${faces.map((f) => `, ${f}`).join("")}.`,
    severity: "error",
    from: { path: `^src/${dir}/` },
    to: {
      path: "^src/",
      pathNot: [
        `^src/${dir}/`,
        // The session's face, or the small part of it that loads without the flow (what --help needs).
        "^src/session/(index|basics)\\.ts$",
        ...alsoFaces.map((face) => `^src/${face}/index\\.ts$`),
      ],
    },
  };
}

const config: IConfiguration = {
  forbidden: [
    {
      name: "no-circular",
      comment: "No import cycle anywhere in src/ (file level).",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "contract-only-zod",
      comment: "src/schema/ (rank 0) imports only zod and other schema files.",
      severity: "error",
      from: { path: "^src/schema/" },
      to: { pathNot: ["^src/schema/", "(^|/)node_modules/zod/"] },
    },
    {
      name: "scrubber-is-a-leaf",
      comment: "src/secrets/scrubber.ts imports nothing of ours: everything else may use it.",
      severity: "error",
      from: { path: "^src/secrets/scrubber\\.ts$" },
      to: { path: "^src/" },
    },
    {
      name: "foundation-down-only",
      comment: "src/errors.ts and src/log.ts (rank 1) import only rank 0-1.",
      severity: "error",
      from: { path: "^src/(errors|log)\\.ts$" },
      to: {
        path: "^src/",
        pathNot: ["^src/schema/", "^src/(errors|log)\\.ts$", "^src/secrets/scrubber\\.ts$"],
      },
    },
    {
      name: "services-down-only",
      comment: "src/tokenhub/, src/secrets/, src/status/ (rank 2) import each other and rank 0-1 only.",
      severity: "error",
      from: { path: "^src/(tokenhub|secrets|status)/" },
      to: { path: "^src/", pathNot: ["^src/(tokenhub|secrets|status|schema)/", "^src/(errors|log)\\.ts$"] },
    },
    {
      name: "machine-down-only",
      comment: "src/machine/ (rank 3) imports rank 0-3 only.",
      severity: "error",
      from: { path: "^src/machine/" },
      to: { path: ["^src/(session|cli|openclaw|mcp|key-page|simulator)/", "^src/index\\.ts$"] },
    },
    {
      name: "machine-is-pure",
      comment: "src/machine/ does no I/O: no node I/O modules, no undici, keytar or pino.",
      severity: "error",
      from: { path: "^src/machine/" },
      to: {
        path: [
          `^(node:)?(${IO_CORE_MODULES.join("|")})(/|$)`,
          "^(undici|keytar|pino)(/|$)",
          "(^|/)node_modules/(undici|keytar|pino)/",
        ],
      },
    },
    {
      name: "session-down-only",
      comment: "src/session/ (rank 4) imports rank 0-4 only.",
      severity: "error",
      from: { path: "^src/session/" },
      to: { path: ["^src/(cli|openclaw|mcp|key-page|simulator)/", "^src/index\\.ts$"] },
    },
    {
      name: "session-basics-stays-small",
      comment:
        "src/session/basics.ts re-exports leaves only (errors, log, exit codes, the quickstart's constants, the scrubber): whatever it imports, every CLI --help loads.",
      severity: "error",
      from: { path: "^src/session/basics\\.ts$" },
      to: {
        pathNot: [
          "^src/(errors|log)\\.ts$",
          "^src/machine/exit-codes\\.ts$",
          "^src/schema/quickstart\\.ts$",
          "^src/secrets/scrubber\\.ts$",
        ],
      },
    },
    ...ADAPTERS.map(adapterRule),
    {
      name: "simulator-stands-alone",
      comment: "src/simulator/ imports its own files and src/schema/ only.",
      severity: "error",
      from: { path: "^src/simulator/" },
      to: { path: "^src/", pathNot: "^src/(simulator|schema)/" },
    },
  ],
  options: {
    doNotFollow: { path: "(^|/)node_modules/" },
    tsPreCompilationDeps: true,
    detectProcessBuiltinModuleCalls: true,
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      mainFields: ["module", "main", "types", "typings"],
    },
  },
};

export default config;
