// The habits a command line is expected to have: help as a command, a version everywhere, "did you mean".
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { describe, it } from "node:test";
import { COMMAND_NAMES, COMMANDS, helpText, optionsOf, parseCommandLine } from "../../src/cli/args.ts";
import { closest, editDistance } from "../../src/cli/suggest.ts";
import { EXIT } from "../../src/machine/face.ts";
import { cli, readFakeKeychain, spawnCli } from "../helpers/cli.ts";
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

  // The commands are an object's keys: a word its prototype answers to is no command either (helper-25 saw
  // `constructor` end in "unexpected error", exit 1).
  for (const word of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
    it(`\`${word}\` is an unknown command (exit 2), not an unexpected error`, async () => {
      const r = await cli([word]);
      assert.equal(r.code, EXIT.usage, r.stderr);
      assert.match(r.stderr, new RegExp(`unknown command '${word}'`));
      assert.doesNotMatch(r.stderr, /unexpected/);
    });
  }

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
      for (const example of spec.examples.filter((e) => !e.startsWith("#"))) {
        // The command inside `source <(...)` too; its arguments end where the shell's next word starts.
        const words = shellWords(example.replace(/\s#\s.*$/, "").replace(/<\((.*)\)/, " $1 "));
        const at = words.lastIndexOf("tokenhub-setup");
        assert.ok(at >= 0, example);
        const end = words.findIndex((w, i) => i > at && ["|", ">", ";", "&&"].includes(w));
        const argv = words.slice(at + 1, end < 0 ? undefined : end);
        const parsed = parseCommandLine(argv);
        assert.equal(parsed.command, name, example);
      }
    }
  });
});

describe("the --transfer-command example in `--help` works as written", () => {
  it("curl, given the saved file last, PUTs it to the folder URL and its URL is recorded as the location", async (t) => {
    if (spawnSync("curl", ["--version"]).status !== 0) return t.skip("curl is not installed");
    const example = COMMANDS.setup?.examples.find((e) => e.includes("--transfer-command")) ?? "";
    const words = shellWords(example);
    const command = words[words.indexOf("--transfer-command") + 1] ?? "";
    const folder = "https://uploads.example.com/tokenhub/";
    assert.ok(command.includes(folder), command);
    const puts: Array<{ url: string; bytes: Buffer }> = [];
    const server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      if (req.method === "PUT") puts.push({ url: req.url ?? "", bytes: Buffer.concat(chunks) });
      res.writeHead(req.method === "PUT" ? 201 : 405).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const dir = await mkdtemp(join(tmpdir(), "tokenhub-transfer-"));
    try {
      const local = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tokenhub/`;
      const r = await cli([
        "--simulate",
        "--json",
        "--multimodal",
        "image",
        "--output-dir",
        dir,
        "--transfer-command",
        command.replace(folder, local),
      ]);
      assert.equal(r.code, EXIT.complete, r.stderr);
      const image = JSON.parse(r.stdout).multimodal.image;
      assert.equal(image.status, "ok");
      const name = basename(image.file);
      assert.deepEqual(image.transfer, { status: "ok", location: `${local}${name}` });
      assert.equal(puts.length, 1);
      assert.equal(puts[0]?.url, `/tokenhub/${name}`);
      assert.deepEqual(puts[0]?.bytes, await readFile(image.file));
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("--json wherever there is output", () => {
  it("every command that answers with data takes --json (help prints text, completion a shell script)", () => {
    for (const name of COMMAND_NAMES.filter((n) => n !== "help" && n !== "completion"))
      assert.equal(optionsOf(name).json?.type, "boolean", name);
  });

  it("simulate --list-scenarios --json: name, description and routes of every scenario", async () => {
    const r = await cli(["simulate", "--list-scenarios", "--json"]);
    assert.equal(r.code, EXIT.complete, r.stderr);
    const list = JSON.parse(r.stdout) as Array<{ name: string; description: string; routes: string[] }>;
    const files = readdirSync(new URL("../../fixtures/scenarios/", import.meta.url))
      .filter((f) => f.endsWith(".json"))
      .map((f) => f.slice(0, -".json".length))
      .sort();
    assert.deepEqual(
      list.map((s) => s.name),
      files,
    );
    for (const s of list) {
      assert.deepEqual(Object.keys(s), ["name", "description", "routes"]);
      assert.ok(s.description.length > 0 && s.routes.length > 0, s.name);
    }
    assert.ok(list.find((s) => s.name === "happy")?.routes.includes("POST /v1/chat/completions"));
  });

  it("simulate --json: serving, the first line on stdout is {baseUrl, scenario}", async () => {
    const child = spawnCli(["simulate", "--json", "--scenario", "unauthorized"]);
    const line = await new Promise<string>((resolve) => child.stdout.once("data", (d) => resolve(String(d))));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    child.kill("SIGINT");
    const served = JSON.parse(line) as { baseUrl: string; scenario: string };
    assert.match(served.baseUrl, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    assert.equal(served.scenario, "unauthorized");
    assert.equal(await exited, EXIT.complete);
  });

  it("key set / key clear --json: one JSON answer on stdout, a failure with its error code", async () => {
    // Both ways, each asserted as such: no keychain answers (keytar faked as where no Secret Service runs), then
    // one that does (the fake, kept in a file the test reads). A temp HOME: `key clear` must never remove a
    // developer's own key file.
    const home = await mkdtemp(join(tmpdir(), "tokenhub-habits-key-"));
    try {
      const KEY = "sk-json-answer-1234";
      const unavailable = await cli(
        ["key", "set", "--stdin", "--json"],
        { HOME: home },
        { input: `${KEY}\n` },
      );
      assert.equal(unavailable.code, EXIT.failure, unavailable.stderr);
      const refusal = JSON.parse(unavailable.stdout) as { stored: boolean; error?: { code: string } };
      assert.equal(refusal.stored, false);
      assert.equal(refusal.error?.code, "keychain_no_service");
      const nothing = await cli(["key", "clear", "--json"], { HOME: home });
      assert.equal(nothing.code, EXIT.complete, nothing.stderr);
      assert.deepEqual(JSON.parse(nothing.stdout), {
        removed: false,
        fileRemoved: false,
        keychain: {
          code: "keychain_no_service",
          message: "OS keychain unavailable: no Secret Service on the D-Bus session.",
        },
      });

      const keychain = join(home, "keychain.json");
      const env = { HOME: home, TOKENHUB_TEST_KEYCHAIN: keychain };
      const set = await cli(["key", "set", "--stdin", "--json"], env, { input: `${KEY}\n` });
      assert.equal(set.code, EXIT.complete, set.stderr);
      assert.deepEqual(JSON.parse(set.stdout), { stored: "keychain" });
      assert.equal(readFakeKeychain(keychain)["tokenhub-setup"]?.TOKENHUB_API_KEY, KEY);
      const clear = await cli(["key", "clear", "--json"], env);
      assert.equal(clear.code, EXIT.complete, clear.stderr);
      assert.deepEqual(JSON.parse(clear.stdout), { removed: true, fileRemoved: false });
      assert.deepEqual(readFakeKeychain(keychain), { "tokenhub-setup": {} });

      // A malformed key needs somewhere it could go first: the key file, where no keychain answers.
      const bad = await cli(
        ["key", "set", "--stdin", "--json", "--insecure-storage"],
        { HOME: home },
        {
          input: "sk with spaces\n",
        },
      );
      assert.equal(bad.code, EXIT.failure);
      const refused = JSON.parse(bad.stdout) as { stored: boolean; error: { code: string; remedy: string } };
      assert.equal(refused.stored, false);
      assert.equal(refused.error.code, "key_whitespace");
      assert.ok(!bad.stdout.includes("sk with spaces"));
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe("the README's synopsis of the command line", () => {
  it("names only options each command takes", async () => {
    const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
    const block = readme.split("## The command line")[1]?.split("```\n")[1] ?? "";
    assert.ok(block.includes("tokenhub-setup status"), "found the synopsis");
    let command = "setup";
    for (const line of block.split("\n")) {
      if (line.startsWith("every command:")) {
        for (const [, flag] of line.matchAll(/--([\w-]+)/g))
          assert.ok(flag && flag in optionsOf("help"), line);
        continue;
      }
      // "tokenhub-setup key set ... | key clear" or "tokenhub-setup help ... | version ...": each part names its command.
      for (const part of line.replace(/^tokenhub-setup /, "").split(" | ")) {
        const word = /^\s*(?:\[)?(\w+)/.exec(part)?.[1] ?? "";
        if (line.startsWith("tokenhub-setup") || COMMAND_NAMES.includes(word))
          command = COMMAND_NAMES.includes(word)
            ? word
            : line.startsWith("tokenhub-setup")
              ? "setup"
              : command;
        for (const [, flag] of part.matchAll(/--([\w-]+)/g))
          assert.ok(flag && flag in optionsOf(command), `${command}: --${flag} in "${line.trim()}"`);
      }
    }
  });
});
