// The habits a command line is expected to have: help as a command, a version everywhere, "did you mean".
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { COMMAND_NAMES, COMMANDS, helpText, optionsOf, parseCommandLine } from "../../src/cli/args.ts";
import { EXIT } from "../../src/cli/exit-codes.ts";
import { closest, editDistance } from "../../src/cli/suggest.ts";
import { cli } from "../helpers/cli.ts";
import { shellWords } from "../helpers/shell-words.ts";

const pkg = (await import("../../package.json", { with: { type: "json" } })).default;

describe("help, version and did-you-mean", () => {
  it("`help <command>` prints the same text as `<command> --help`; `help` alone is the default command's", async () => {
    const runs = await Promise.all(
      COMMAND_NAMES.map(async (name) => [await cli(["help", name]), await cli([name, "--help"])] as const),
    );
    for (const [i, [viaHelp, viaFlag]] of runs.entries()) {
      assert.equal(viaHelp.code, EXIT.complete, COMMAND_NAMES[i]);
      assert.equal(viaHelp.stdout, viaFlag.stdout, COMMAND_NAMES[i]);
    }
    assert.equal((await cli(["help"])).stdout, (await cli(["--help"])).stdout);
    const wrong = await cli(["help", "stauts"]);
    assert.equal(wrong.code, EXIT.usage);
    assert.match(wrong.stderr, /did you mean `status`/);
  });

  it("`version`, and --version / -v on every command, print the package version; --json adds Node's", async () => {
    const argvs = [["version"], ["--version"], ["-v"], ...COMMAND_NAMES.map((name) => [name, "-v"])];
    const runs = await Promise.all(argvs.map((argv) => cli(argv)));
    for (const [i, r] of runs.entries()) {
      assert.equal(r.code, EXIT.complete, `${argvs[i]?.join(" ")}: ${r.stderr}`);
      assert.equal(r.stdout, `${pkg.version}\n`, argvs[i]?.join(" "));
    }
    for (const argv of [
      ["version", "--json"],
      ["status", "--version", "--json"],
    ]) {
      const r = await cli(argv);
      assert.deepEqual(JSON.parse(r.stdout), {
        name: "tokenhub-setup",
        version: pkg.version,
        node: process.versions.node,
      });
    }
  });

  for (const [argv, meant] of [
    [["stauts"], "`status`"],
    [["stat"], "`status`"],
    [["doctr", "--json"], "`doctor`"],
    [["simlate"], "`simulate`"],
    [["--sim"], "`--simulate`"],
    [["status", "--jsno"], "`--json`"],
    [["key", "clera"], "`clear`"],
  ] as const) {
    it(`\`${argv.join(" ")}\` exits 2 and suggests ${meant}, in one line`, async () => {
      const r = await cli([...argv]);
      assert.equal(r.code, EXIT.usage, r.stderr);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.ok(r.stderr.includes(`did you mean ${meant}?`), r.stderr);
      assert.equal(r.stdout, "");
    });
  }

  it("a word that is no command and close to none lists the commands instead of guessing", async () => {
    const r = await cli(["frobnicate"]);
    assert.equal(r.code, EXIT.usage);
    assert.match(r.stderr, /unknown command 'frobnicate' \(commands: setup, status, key, doctor, simulate/);
    assert.doesNotMatch(r.stderr, /did you mean/);
  });

  it("edit distance counts a swap of neighbours as one slip", () => {
    assert.equal(editDistance("stauts", "status"), 1);
    assert.equal(editDistance("", "key"), 3);
    assert.equal(editDistance("doctor", "doctor"), 0);
    assert.equal(closest("foo", COMMAND_NAMES), undefined);
    assert.equal(closest("s", COMMAND_NAMES), undefined);
    assert.equal(closest("KEY", COMMAND_NAMES), "key");
  });
});

describe("--help tells the truth", () => {
  // The option names a help page lists, read back from its text.
  const listed = (text: string) =>
    [
      ...(text.split("\nOptions:\n")[1]?.split("\n\n")[0] ?? "").matchAll(/^ {2}(?:-\w, )? *--([\w-]+)/gm),
    ].map((m) => m[1]);

  it("every command's help lists exactly the options its parser takes, short forms included", () => {
    for (const name of COMMAND_NAMES) {
      const text = helpText(name);
      assert.deepEqual(listed(text).sort(), Object.keys(optionsOf(name)).sort(), name);
      for (const [option, spec] of Object.entries(optionsOf(name))) {
        if (spec.short) assert.ok(text.includes(`-${spec.short}, --${option}`), `${name} -${spec.short}`);
      }
    }
  });

  it("the default command's help lists every command", () => {
    const commands = helpText("setup").split("\nCommands")[1]?.split("\n\n")[0] ?? "";
    assert.deepEqual(
      [...commands.matchAll(/^ {2}(\w+) /gm)].map((m) => m[1]),
      COMMAND_NAMES,
    );
  });

  it("every help example is a command line the parser takes", () => {
    for (const [name, spec] of Object.entries(COMMANDS)) {
      for (const example of spec.examples) {
        const words = shellWords(example.replace(/\s#\s.*$/, ""));
        const at = words.lastIndexOf("tokenhub-setup");
        assert.ok(at >= 0, example);
        const argv = words.slice(at + 1, words.includes("|", at) ? words.indexOf("|", at) : undefined);
        const parsed = parseCommandLine(argv);
        assert.equal(parsed.command, name, example);
      }
    }
  });
});
