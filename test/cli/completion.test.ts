// `tokenhub-setup completion bash|zsh|fish`, run in the real shells: bash always, zsh and fish where installed
// (.ci/run installs them; without them those cases are skipped, saying so, and only the structure is checked).
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { COMMAND_NAMES, COMMANDS, KEY_ACTIONS, optionsOf, SHELLS } from "../../src/cli/args.ts";
import { EXIT } from "../../src/machine/face.ts";
import { listScenarios } from "../../src/simulator/index.ts";
import { cli, cliArgv, isolatedEnv } from "../helpers/cli.ts";

const ZSH_COMPLETE = new URL("../helpers/zsh-complete.zsh", import.meta.url).pathname;
const has = (shell: string) => spawnSync(shell, ["-c", "exit 0"]).status === 0;
const SCENARIOS = listScenarios().map((s) => s.name);

function run(
  file: string,
  args: string[],
  timeout = 20_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  // A home of its own: fish keeps its history and config there.
  const isolated = isolatedEnv();
  return new Promise((resolve) => {
    execFile(file, args, { timeout, env: isolated.env }, (error, stdout, stderr) => {
      isolated.cleanup();
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

// Each case: the words typed so far (the last one is being completed) and what must be offered.
const CASES: Array<{ line: string[]; offers: string[]; only?: boolean }> = [
  { line: ["stat"], offers: ["status"], only: true },
  { line: ["--sim"], offers: ["--simulate"], only: true },
  { line: ["doc"], offers: ["doctor"], only: true },
  { line: ["--simulate", "--scenario", "ha"], offers: ["happy"], only: true },
  { line: ["simulate", "--scenario", "rate-limited-s"], offers: ["rate-limited-seconds"], only: true },
  { line: ["--multimodal", "im"], offers: ["image", "image,video"], only: true },
  { line: ["--video-protocol", ""], offers: ["quickstart", "dashscope", "openai"], only: true },
  { line: ["key", ""], offers: [...KEY_ACTIONS], only: true },
  { line: ["key", "set", "--st"], offers: ["--stdin"], only: true },
  { line: ["status", "--js"], offers: ["--json"], only: true },
  { line: ["help", "do"], offers: ["doctor"], only: true },
  { line: ["completion", ""], offers: [...SHELLS], only: true },
  { line: ["version", "--"], offers: ["--json", "--help", "--version"] },
];

describe("shell completion", () => {
  let dir: string;
  const scripts: Record<string, string> = {};
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tokenhub-completion-"));
    for (const shell of SHELLS) {
      const r = await cli(["completion", shell]);
      assert.equal(r.code, EXIT.complete, r.stderr);
      scripts[shell] = r.stdout;
      await writeFile(join(dir, shell), r.stdout);
    }
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("each script names every command, every option of every command and every scenario", () => {
    for (const shell of SHELLS) {
      const script = scripts[shell] as string;
      for (const name of COMMAND_NAMES) {
        assert.ok(script.includes(name), `${shell}: ${name}`);
        for (const option of Object.keys(optionsOf(name)))
          assert.ok(
            shell === "fish" ? script.includes(`-l ${option}`) : script.includes(`--${option}`),
            `${shell}: ${name} --${option}`,
          );
      }
      for (const scenario of SCENARIOS) assert.ok(script.includes(scenario), `${shell}: ${scenario}`);
    }
  });

  it("a mistyped or missing shell is a usage error that names the nearest", async () => {
    const typo = await cli(["completion", "bsh"]);
    assert.equal(typo.code, EXIT.usage);
    assert.match(typo.stderr, /did you mean `bash`/);
    assert.equal((await cli(["completion"])).code, EXIT.usage);
  });

  it("bash: `source <(tokenhub-setup completion bash)` registers the function", async () => {
    const r = await run("bash", [
      "-c",
      `source <("${process.execPath}" ${cliArgv(["completion", "bash"])
        .map((a) => `"${a}"`)
        .join(" ")}); complete -p tokenhub-setup`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "complete -F _tokenhub_setup tokenhub-setup");
  });

  it("bash: the completion function, driven by COMP_WORDS/COMP_CWORD, offers commands, options and values", async () => {
    // One bash for all cases, each printed as a JSON line.
    const probes = [
      ...CASES.map((c) => c.line),
      // Every option of every command, typed to its first three letters, with the command and (setup) without.
      ...COMMAND_NAMES.flatMap((name) =>
        Object.keys(optionsOf(name)).flatMap((option) => [
          [name, `--${option.slice(0, 3)}`],
          ...(name === "setup" ? [[`--${option.slice(0, 3)}`]] : []),
        ]),
      ),
      // --scenario=hap: bash splits the word at '='.
      ["--scenario", "=", "hap"],
    ];
    const quote = (w: string) => `'${w.replace(/'/g, "'\\''")}'`;
    const body = probes
      .map(
        (words) =>
          `COMP_WORDS=(tokenhub-setup ${words.map(quote).join(" ")}); COMP_CWORD=${words.length}; COMPREPLY=(); _tokenhub_setup; printf '%s\\n' "$(IFS=$'\\t'; echo "\${COMPREPLY[*]}")"`,
      )
      .join("\n");
    const r = await run("bash", ["-c", `source ${join(dir, "bash")}\n${body}`]);
    assert.equal(r.code, 0, r.stderr);
    const replies = r.stdout.split("\n").map((line) => (line === "" ? [] : line.split("\t")));
    for (const [i, c] of CASES.entries()) {
      const got = replies[i] ?? [];
      if (c.only) assert.deepEqual([...got].sort(), [...c.offers].sort(), c.line.join(" "));
      else
        for (const want of c.offers) assert.ok(got.includes(want), `${c.line.join(" ")}: ${want} in ${got}`);
    }
    let i = CASES.length;
    for (const name of COMMAND_NAMES) {
      for (const option of Object.keys(optionsOf(name))) {
        assert.ok(replies[i++]?.includes(`--${option}`), `${name} --${option}`);
        if (name === "setup") assert.ok(replies[i++]?.includes(`--${option}`), `--${option}`);
      }
    }
    assert.deepEqual(replies[i], ["happy"], "--scenario=hap");
  });

  it("zsh: the script parses, and zsh's completion system offers the same candidates", async (t) => {
    if (!has("zsh"))
      return t.skip("zsh is not installed (apt-get install zsh); only the structure was checked");
    const parse = await run("zsh", ["-n", join(dir, "zsh")]);
    assert.equal(parse.code, 0, parse.stderr);
    assert.match(scripts.zsh as string, /^#compdef tokenhub-setup\n/);
    // A pseudo-terminal per case: a handful of cases, run side by side.
    const cases = CASES.filter((c) => c.only).slice(0, 8);
    const results = await Promise.all(
      cases.map((c) => run("zsh", [ZSH_COMPLETE, join(dir, "zsh"), ["tokenhub-setup", ...c.line].join(" ")])),
    );
    for (const [i, c] of cases.entries()) {
      const got = (results[i]?.stdout ?? "").split("\n").filter(Boolean);
      assert.deepEqual([...got].sort(), [...c.offers].sort(), `${c.line.join(" ")}: ${results[i]?.stderr}`);
    }
  });

  it("fish: the script parses, and `complete -C` offers the same candidates", async (t) => {
    if (!has("fish"))
      return t.skip("fish is not installed (apt-get install fish); only the structure was checked");
    const parse = await run("fish", ["-n", join(dir, "fish")]);
    assert.equal(parse.code, 0, parse.stderr);
    // One line per case: the candidates without their descriptions, space-separated.
    const body = CASES.map(
      (c) =>
        `set -l r (complete -C ${JSON.stringify(["tokenhub-setup", ...c.line].join(" "))} | string replace -r '\\t.*$' ''); echo "$r"`,
    ).join("\n");
    const r = await run("fish", ["-c", `source ${join(dir, "fish")}\n${body}`]);
    assert.equal(r.code, 0, r.stderr);
    const replies = r.stdout.split("\n").map((line) => (line === "" ? [] : line.split(" ")));
    for (const [i, c] of CASES.entries()) {
      const got = replies[i] ?? [];
      if (c.only) assert.deepEqual([...got].sort(), [...c.offers].sort(), c.line.join(" "));
      else for (const want of c.offers) assert.ok(got.includes(want), `${c.line.join(" ")}: ${want}`);
    }
  });

  it("help shows how to load the scripts, and the table's positionals are what completion offers", () => {
    assert.deepEqual(COMMANDS.key?.positionals?.(), KEY_ACTIONS);
    assert.deepEqual(COMMANDS.help?.positionals?.(), COMMAND_NAMES);
    for (const shell of SHELLS)
      assert.ok(
        COMMANDS.completion?.examples.some((e) => e.includes(`completion ${shell}`)),
        shell,
      );
  });
});
