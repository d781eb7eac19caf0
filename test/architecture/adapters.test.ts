// Adapters only through the session layer (issue 12): every file in src/cli and src/openclaw imports its own
// folder and the session's public face, src/session/index.ts, and nothing else of ours; the CLI may also start
// the simulator through src/simulator/index.ts. Packages (node:*, zod, pino, @clack/prompts, OpenClaw's SDK) are
// not ours and pass. Imports are read with TypeScript's own pre-processor, which sees every form that names a
// module: static, type-only, side-effect, `export ... from`, dynamic `import()` and `typeof import()`.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** Each adapter's folder and what of ours it may import besides its own files. */
const ADAPTERS: Record<string, readonly string[]> = {
  "src/cli": ["src/session/index.ts", "src/simulator/index.ts"],
  "src/openclaw": ["src/session/index.ts"],
};

/** Not modules but data: the CLI's entry point reads the package's version for --version. */
const DATA_FILES: Record<string, readonly string[]> = { "src/cli/main.ts": ["package.json"] };

/** Our own package by name would reach every layer through its exports map. */
const OWN_PACKAGE = /^tokenhub-setup(\/|$)/;

interface Finding {
  file: string;
  imports: string;
}

/** Every module specifier a file names, and whether any `import()` takes a computed one (which cannot be read). */
function importsOf(path: string): { specifiers: string[]; computed: boolean } {
  const text = readFileSync(path, "utf8");
  const info = ts.preProcessFile(text, true, true);
  const specifiers = [
    ...info.importedFiles.map((f) => f.fileName),
    ...info.referencedFiles.map((f) => f.fileName),
  ];
  let computed = false;
  const visit = (node: ts.Node): void => {
    if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      !ts.isStringLiteral(node.arguments[0] ?? node)
    )
      computed = true;
    node.forEachChild(visit);
  };
  visit(ts.createSourceFile(path, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS));
  return { specifiers, computed };
}

function tsFilesUnder(base: string, dir: string): string[] {
  return readdirSync(join(base, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => toPosix(relative(base, join(e.parentPath, e.name))))
    .sort();
}

const toPosix = (path: string) => path.split(sep).join("/");

/** The imports under `base` that break the rule, and how many files and imports of ours were read. */
function check(base: string): { broken: Finding[]; files: number; ours: Finding[] } {
  const broken: Finding[] = [];
  const ours: Finding[] = [];
  let files = 0;
  for (const [folder, allowed] of Object.entries(ADAPTERS)) {
    for (const file of tsFilesUnder(base, folder)) {
      files += 1;
      const { specifiers, computed } = importsOf(join(base, file));
      if (computed) broken.push({ file, imports: "import() of a computed specifier" });
      for (const specifier of specifiers) {
        if (OWN_PACKAGE.test(specifier)) {
          broken.push({ file, imports: specifier });
          continue;
        }
        // A bare name is a package (or a node: builtin): not ours.
        if (!specifier.startsWith(".") && !specifier.startsWith("/")) continue;
        const target = toPosix(relative(base, resolve(dirname(join(base, file)), specifier))).replace(
          /\.js$/,
          ".ts",
        );
        ours.push({ file, imports: target });
        const fine =
          target.startsWith(`${folder}/`) ||
          allowed.includes(target) ||
          (DATA_FILES[file] ?? []).includes(target);
        if (!fine) broken.push({ file, imports: target });
      }
    }
  }
  return { broken, files, ours };
}

const lines = (findings: Finding[]) => findings.map((f) => `${f.file} -> ${f.imports}`).sort();

describe("adapters import only the session's face", () => {
  it("src/cli and src/openclaw import their own files, src/session/index.ts and (the CLI) src/simulator/index.ts", () => {
    const { broken, files, ours } = check(root);
    assert.deepEqual(
      lines(broken),
      [],
      "Import from src/session/index.ts instead (add what the adapter needs to the face, documented).",
    );
    // The rule would pass on nothing if no file or import had been read.
    assert.ok(files >= 25, `only ${files} adapter files were read`);
    for (const folder of Object.keys(ADAPTERS)) {
      assert.ok(
        ours.some((f) => f.file.startsWith(`${folder}/`) && f.imports === "src/session/index.ts"),
        `${folder} reaches the session through its face`,
      );
    }
  });

  it("fails on each kind of forbidden import, and lets the allowed ones through", () => {
    // A scratch tree with one planted break per form and, beside them, the imports the rule must allow.
    const scratch = mkdtempSync(join(tmpdir(), "adapters-rule-"));
    try {
      const files: Record<string, string[]> = {
        "src/cli/ok.ts": [
          'import { EXIT } from "../session/index.ts";',
          'import { startSimulator } from "../simulator/index.ts";',
          'import { own } from "./own.ts";',
          'import { deeper } from "./commands/deeper.ts";',
          'import { readFile } from "node:fs/promises";',
          'const clack = await import("@clack/prompts");',
        ],
        "src/cli/commands/deeper.ts": [
          'import { own } from "../own.ts";',
          'import { x } from "../../errors.ts";',
        ],
        "src/cli/own.ts": [],
        "src/cli/main.ts": ['const pkg = await import("../../package.json", { with: { type: "json" } });'],
        "src/cli/bad.ts": [
          'import { ConfigSchema } from "../schema/config.ts";',
          'import type { Logger } from "../log.ts";',
          'export { scrub } from "../secrets/scrubber.ts";',
          'export * from "../status/store.ts";',
          'const client = await import("../tokenhub/client.ts");',
          'type Turn = typeof import("../session/turn.ts");',
          'import "../session/session.ts";',
          'import { serve } from "../simulator/server.ts";',
          'import { all } from "tokenhub-setup";',
          'const pkg = await import("../../package.json", { with: { type: "json" } });',
          'const name = "../errors.ts"; const later = await import(name);',
        ],
        "src/openclaw/ok.ts": ['import { EXIT } from "../session/index.ts";', 'import { z } from "zod";'],
        "src/openclaw/bad.ts": [
          'import { keyOrigin } from "../cli/render.ts";',
          'import { startSimulator } from "../simulator/index.ts";',
          'import { EXIT } from "../machine/face.js";',
        ],
      };
      for (const [path, body] of Object.entries(files)) {
        mkdirSync(dirname(join(scratch, path)), { recursive: true });
        writeFileSync(join(scratch, path), `${body.join("\n")}\n`);
      }
      assert.deepEqual(
        lines(check(scratch).broken),
        [
          "src/cli/bad.ts -> import() of a computed specifier",
          "src/cli/bad.ts -> package.json",
          "src/cli/bad.ts -> src/log.ts",
          "src/cli/bad.ts -> src/schema/config.ts",
          "src/cli/bad.ts -> src/secrets/scrubber.ts",
          "src/cli/bad.ts -> src/session/session.ts",
          "src/cli/bad.ts -> src/session/turn.ts",
          "src/cli/bad.ts -> src/simulator/server.ts",
          "src/cli/bad.ts -> src/status/store.ts",
          "src/cli/bad.ts -> src/tokenhub/client.ts",
          "src/cli/bad.ts -> tokenhub-setup",
          "src/cli/commands/deeper.ts -> src/errors.ts",
          "src/openclaw/bad.ts -> src/cli/render.ts",
          "src/openclaw/bad.ts -> src/machine/face.ts",
          "src/openclaw/bad.ts -> src/simulator/index.ts",
        ].sort(),
      );
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
