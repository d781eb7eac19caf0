// Every shell example in README.md, run as a reader in a clone would type it, by bash, from the project folder,
// with PATH as the machine has it (the system's node and npx, not this suite's Node 24). npx itself is run for
// real where the README makes a claim about it (it finds the clone's command and its Node 24 from a system
// Node 20; the first run's warning; Ctrl-C); elsewhere `npx tokenhub-setup` is a shell function that runs what
// npx runs, the package's bin (dist/cli/main.js) on the project's Node, saving npm's second of start-up per
// example. What cannot run here (the real tokenhub.link, OpenClaw, npm's global folder) runs on the simulator
// or a stand-in when that shows the same thing, and is otherwise skipped with its reason: each example is one
// test, so skips are counted in the summary, never silent.
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { EXIT } from "../../src/machine/face.ts";
import { type Simulator, startSimulator } from "../../src/simulator/index.ts";
import { FAKE_KEYTAR, readFakeKeychain } from "../helpers/fake-keytar.ts";
import { oldNode } from "../helpers/old-node.ts";
import { shellWords } from "../helpers/shell-words.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const README = await readFile(join(ROOT, "README.md"), "utf8");
const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { version: string };

interface Example {
  text: string;
  line: number;
}

/** The examples: commands in ```sh blocks (a block opening with #! is one script), `$ ` lines in ```console
 * blocks, and inline code that runs `npx ... tokenhub-setup`. */
function readmeExamples(markdown: string): Example[] {
  const lines = markdown.split("\n");
  const examples: Example[] = [];
  let fence: { lang: string; indent: number; start: number; body: string[] } | undefined;
  const prose: Array<{ text: string; line: number }> = [];
  for (const [i, raw] of lines.entries()) {
    const opening = /^( *)```(\w*)\s*$/.exec(raw);
    if (!fence && opening) {
      fence = { lang: opening[2] ?? "", indent: opening[1]?.length ?? 0, start: i + 1, body: [] };
      continue;
    }
    if (fence && /^ *```\s*$/.test(raw)) {
      const { lang, body, start } = fence;
      if (lang === "sh" && body[0]?.startsWith("#!"))
        examples.push({ text: `${body.join("\n")}\n`, line: start });
      else if (lang === "sh")
        for (const [j, l] of body.entries()) {
          const command = l.replace(/\s+#\s.*$/, "").trim();
          if (command && !command.startsWith("#")) examples.push({ text: command, line: start + j + 1 });
        }
      else if (lang === "console")
        for (const [j, l] of body.entries())
          if (l.startsWith("$ ")) examples.push({ text: l.slice(2).trim(), line: start + j + 1 });
      fence = undefined;
      continue;
    }
    if (fence) fence.body.push(raw.slice(fence.indent));
    else prose.push({ text: raw, line: i + 1 });
  }
  // Inline code may wrap across lines; read paragraphs whole.
  let paragraph: Array<{ text: string; line: number }> = [];
  const flush = () => {
    const text = paragraph.map((p) => p.text).join("\n");
    for (const m of text.matchAll(/(?<!`)`([^`]+)`(?!`)/g)) {
      const code = (m[1] as string).replace(/\s+/g, " ").trim();
      if (/^npx (--no-install )?tokenhub-setup\b/.test(code)) {
        const line = (paragraph[0]?.line ?? 0) + text.slice(0, m.index).split("\n").length - 1;
        examples.push({ text: code, line });
      }
    }
    paragraph = [];
  };
  for (const p of prose) {
    if (p.text.trim() === "") flush();
    else paragraph.push(p);
  }
  flush();
  return examples;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

type Disposition =
  | {
      /** What runs, when it is not the example as written; `why` then says why. */
      run?: string | (() => string);
      why?: string;
      /** A step before it (its output is not checked beyond success). */
      prepare?: string;
      env?: Record<string, string>;
      /** Runs until this text appears on stderr, then gets Ctrl-C (SIGINT to its process group). */
      interruptAfter?: string;
      /** Through the real npx (see the top of the file). */
      realNpx?: boolean;
      check: (r: Run) => void | Promise<void>;
    }
  | { skip: string };

const exits = (code: number) => (r: Run) => assert.equal(r.code, code, `exit ${r.code}\n${r.stderr}`);

let sim: Simulator;
/** A port nothing listens on, found before the suite runs (see the simulate example). */
let freePort = 0;
/** Where the --insecure-storage example's key file goes (removed after the suite). */
const KEY_FILE_HOME = join(tmpdir(), `tokenhub-readme-keyfile-${process.pid}`);
/**
 * The keychains of the `key set` and `key clear` examples: keytar is test/helpers/fake-keytar.ts here, never the
 * OS keychain of the machine, and these are the files it keeps them in (removed after the suite). Elsewhere no
 * keychain answers, as on a machine without a Secret Service.
 */
const KEYCHAINS = join(tmpdir(), `tokenhub-readme-keychains-${process.pid}`);
const README_KEY = "sk-readme-example-0123456789";
let work: string;

const DISPOSITIONS: Record<string, Disposition> = {
  "npm ci && npm run demo": {
    run: "npm run demo",
    why: "`npm ci` would reinstall the node_modules this suite runs from (CI runs it on a fresh clone first)",
    check: (r) => {
      exits(EXIT.complete)(r);
      assert.match(r.stderr, /Integration complete/);
    },
  },
  "npm test": { skip: "it is this suite (CI runs `npm test`)" },
  "git clone <this repository> tokenhub-setup && cd tokenhub-setup && npm ci": {
    skip: "needs the repository's address and the network (CI starts from such a clone)",
  },
  'openclaw plugins install -l "$PWD" --accept-capabilities': {
    skip: "needs the OpenClaw CLI (npm run test:e2e:openclaw installs the plugin into a real OpenClaw)",
  },
  "openclaw config set plugins.entries.tokenhub-setup.config.apiKey --ref-source env --ref-provider default --ref-id TOKENHUB_API_KEY":
    { skip: "needs the OpenClaw CLI (npm run test:e2e:openclaw configures the key the same way)" },
  "openclaw secrets store set TOKENHUB_API_KEY --kind secret && openclaw secrets reload": {
    skip: "needs the OpenClaw CLI (npm run test:e2e:openclaw stores and reloads the key the same way)",
  },
  "read -rs TOKENHUB_API_KEY && export TOKENHUB_API_KEY": {
    skip: "reads a key typed at a terminal (the e2e hands the host its key in TOKENHUB_API_KEY)",
  },
  "openclaw onboard --non-interactive --accept-risk --auth-choice tokenhub-api-key --secret-input-mode ref --skip-health":
    {
      skip: "needs the OpenClaw CLI (test/e2e/openclaw-provider.e2e.ts onboards with these flags, plus the other --skip-* for a headless host)",
    },
  "openclaw models auth login --provider tokenhub": {
    skip: "needs the OpenClaw CLI and a terminal (test/e2e/openclaw-provider.e2e.ts runs it in tmux)",
  },
  "openclaw models list --provider tokenhub --refresh": {
    skip: "needs the OpenClaw CLI (test/e2e/openclaw-provider.e2e.ts lists with --json)",
  },
  "openclaw mcp add tokenhub --command tokenhub-setup --arg mcp": {
    skip: "needs the OpenClaw CLI (npm run test:e2e:openclaw adds the server the same way: test/e2e/openclaw-mcp.e2e.ts)",
  },
  "claude mcp add tokenhub -- tokenhub-setup mcp": {
    skip: "needs Claude Code (not on this machine); the server it starts is what test/mcp/stdio.test.ts drives with the SDK's client",
  },
  "npx tokenhub-setup mcp --simulate": {
    run: () =>
      `printf '%s\n' ${[
        {
          jsonrpc: "2.0",
          id: 1,
          method: "initialize",
          params: {
            protocolVersion: "2025-11-25",
            capabilities: {},
            clientInfo: { name: "readme", version: "1" },
          },
        },
        { jsonrpc: "2.0", method: "notifications/initialized" },
        {
          jsonrpc: "2.0",
          id: 2,
          method: "tools/call",
          params: { name: "tokenhub_setup", arguments: { action: "start" } },
        },
      ]
        .map((m) => `'${JSON.stringify(m)}'`)
        .join(" ")} | npx tokenhub-setup mcp --simulate`,
    why: "a server waits for a client: here the client is three JSON-RPC lines on its stdin (initialize, initialized, the tool call), which it answers before it exits",
    check: (r) => {
      exits(EXIT.complete)(r);
      assert.match(r.stderr, /serving MCP on stdio, for the simulator/);
      const answers = r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { id: number; result: { structuredContent?: { state: string } } });
      assert.deepEqual(
        answers.map((a) => a.id),
        [1, 2],
      );
      assert.equal(answers[1]?.result.structuredContent?.state, "complete");
    },
  },
  "npx tokenhub-setup": {
    why: "off a terminal and with no key it never prompts: it says where to create one and exits 3 (the guided prompt is test/cli/interactive.test.ts)",
    check: (r) => {
      exits(EXIT.keyMissing)(r);
      assert.match(r.stderr, /API Keys/);
    },
  },
  "TOKENHUB_API_KEY=... npx tokenhub-setup --json > record.json; echo $?": {
    run: "npx tokenhub-setup --simulate --json > record.json; echo $?",
    why: "it sends a real key to tokenhub.link (no network here): the same on the simulator",
    check: async (r) => {
      assert.equal(r.stdout, "0\n", r.stderr);
      const record = JSON.parse(await readFile(join(work, "record.json"), "utf8"));
      assert.equal(record.integration_status, "success");
    },
  },
  "npx tokenhub-setup --simulate --scenario region-unavailable-dashscope": {
    check: (r) => {
      exits(EXIT.complete)(r);
      assert.match(r.stderr, /fell back from deepseek-v3\.2/);
    },
  },
  "npx tokenhub-setup --simulate --multimodal image,video": {
    check: (r) => {
      exits(EXIT.complete)(r);
      assert.match(r.stderr, /^ {2}image: ok /m);
      assert.match(r.stderr, /^ {2}video: ok /m);
    },
  },
  "npx tokenhub-setup --simulate --scenario video-failed --multimodal video; echo $?": {
    check: (r) => {
      assert.equal(r.stdout.trim(), "0", r.stderr);
      assert.match(r.stderr, /video: failed with wan2\.6-t2v/);
    },
  },
  "npx tokenhub-setup status": {
    prepare:
      'npx tokenhub-setup --simulate --quiet --status-file "$XDG_STATE_HOME/tokenhub-setup/status.json"',
    why: "a simulated setup first writes the record it shows",
    check: (r) => {
      exits(EXIT.complete)(r);
      assert.match(r.stdout, /TokenHub integration complete/);
    },
  },
  "npx tokenhub-setup status --check": {
    run: () => `npx tokenhub-setup status --check --base-url ${sim.baseUrl}`,
    why: "it asks https://tokenhub.link (no network here): the local simulator instead, which accepts the key",
    env: { TOKENHUB_API_KEY: "sk-readme-example-bbbb" },
    check: (r) => {
      exits(EXIT.complete)(r);
      assert.match(r.stdout, /TOKENHUB_API_KEY +key sk-…bbbb +<- used/);
      assert.match(r.stdout, /TokenHub accepted it/);
    },
  },
  "pass show tokenhub | npx tokenhub-setup key set --stdin --insecure-storage": {
    why: "`pass` is a stand-in that prints a test key; the file goes to a config folder of its own, so the examples after it still find no key",
    env: { XDG_CONFIG_HOME: KEY_FILE_HOME },
    check: (r) => {
      exits(EXIT.complete)(r);
      assert.match(r.stderr, /Warning: --insecure-storage keeps the key in plaintext/);
      assert.match(r.stderr, /Stored in plaintext in .*api-key \(mode 0600\)/);
    },
  },
  "pass show tokenhub | npx tokenhub-setup key set --stdin": {
    why: "`pass` is a stand-in that prints a test key; the keychain is a stand-in too, kept in a file",
    env: { TOKENHUB_TEST_KEYCHAIN: join(KEYCHAINS, "set.json") },
    check: (r) => {
      exits(EXIT.complete)(r);
      assert.match(r.stderr, /Stored in the OS keychain/);
      assert.deepEqual(readFakeKeychain(join(KEYCHAINS, "set.json")), {
        "tokenhub-setup": { TOKENHUB_API_KEY: README_KEY },
      });
    },
  },
  "npx tokenhub-setup key where --show-masked": {
    env: { TOKENHUB_API_KEY: "sk-readme-example-9f2c" },
    why: "the key comes from TOKENHUB_API_KEY (no keychain here)",
    check: (r) => {
      exits(EXIT.complete)(r);
      assert.match(r.stdout, /Key source: environment \(TOKENHUB_API_KEY\) \(sk-…9f2c\)/);
    },
  },
  "npx tokenhub-setup key clear": {
    prepare: "pass show tokenhub | npx tokenhub-setup key set --stdin",
    why: "a key stored first (in a stand-in keychain kept in a file) for it to remove",
    env: { TOKENHUB_TEST_KEYCHAIN: join(KEYCHAINS, "clear.json") },
    check: (r) => {
      exits(EXIT.complete)(r);
      assert.match(r.stdout, /Removed the TokenHub key from the OS keychain\./);
      assert.deepEqual(readFakeKeychain(join(KEYCHAINS, "clear.json")), { "tokenhub-setup": {} });
    },
  },
  "npx tokenhub-setup doctor": {
    run: () => `npx tokenhub-setup doctor --base-url ${sim.baseUrl}`,
    why: "it checks https://tokenhub.link (no network here): against a local simulator instead",
    env: { TOKENHUB_API_KEY: "sk-readme-example-9f2c" },
    check: (r) => {
      exits(EXIT.complete)(r);
      assert.match(r.stdout, /Reachable {4}HTTP \d+/);
    },
  },
  "npx tokenhub-setup simulate --scenario rate-limited-seconds --port 8787": {
    // 8787 can be taken on a shared machine (a person's own simulator held it once): a free port, else as written.
    run: () => `npx tokenhub-setup simulate --scenario rate-limited-seconds --port ${freePort}`,
    why: "a free port instead of 8787, which another process may hold",
    interruptAfter: "Ctrl-C stops it.",
    realNpx: true,
    check: (r) => {
      // The simulator stops cleanly (exit 0); npx then ends on the same interrupt (the shell says 130).
      assert.ok(
        r.code === 0 || r.code === 130 || r.signal === "SIGINT",
        `${r.code} ${r.signal}\n${r.stderr}`,
      );
      assert.match(
        r.stderr,
        /Stopped after \d+ request/,
        `${r.code} ${r.signal} ${JSON.stringify(r.stdout)}`,
      );
    },
  },
  "npx tokenhub-setup simulate --list-scenarios": {
    check: (r) => {
      exits(EXIT.complete)(r);
      assert.match(r.stdout, /^happy\s/m);
    },
  },
  "npx tokenhub-setup stauts": {
    check: (r) => {
      exits(EXIT.usage)(r);
      assert.match(r.stderr, /did you mean `status`\?/);
    },
  },
  "npx tokenhub-setup completion --help": {
    check: (r) => {
      exits(EXIT.complete)(r);
      assert.match(r.stdout, /completion bash\|zsh\|fish/);
    },
  },
  "npx --no-install tokenhub-setup --json --no-input": {
    why: "no key here: it exits 3 with what it needs, as JSON",
    check: (r) => {
      exits(EXIT.keyMissing)(r);
      assert.equal(JSON.parse(r.stdout).state, "awaitingKey");
    },
  },
  "npx tokenhub-setup --multimodal image,video --transfer-command ./tokenhub-upload.sh": {
    run: "npx tokenhub-setup --simulate --json --multimodal image,video --transfer-command ./tokenhub-upload.sh",
    why: "it reaches tokenhub.link: on the simulator instead, with the README's script and a stand-in `aws`",
    check: (r) => {
      exits(EXIT.complete)(r);
      const media = JSON.parse(r.stdout).multimodal;
      for (const kind of ["image", "video"]) {
        const file = (media[kind].file as string).split("/").at(-1);
        assert.deepEqual(media[kind].transfer, {
          status: "ok",
          location: `s3://my-bucket/tokenhub-checks/${file}`,
        });
      }
    },
  },
  "npm link": {
    skip: "rebuilds dist/ (its prepare script) under the tests that run it, and writes npm's global folder; the command as it links it is run by the next test",
  },
  "npm pack && npm install -g tokenhub-setup-*.tgz": {
    skip: "installs the dependencies from the npm registry (no network here)",
  },
};

// The upload script (the README's block that opens with #!) is an example too, keyed by its first lines.
const SCRIPT_KEY = "#!/bin/sh\n# tokenhub-upload.sh FILE";
const scriptDisposition: Disposition = {
  run: "./tokenhub-upload.sh photo.png",
  why: "saved as ./tokenhub-upload.sh and given a file; `aws` is a stand-in that records its arguments",
  check: async (r) => {
    exits(0)(r);
    assert.equal(r.stdout, "s3://my-bucket/tokenhub-checks/photo.png\n");
    assert.match(
      await readFile(join(work, "aws-calls"), "utf8"),
      /^s3 cp --quiet photo\.png s3:\/\/my-bucket\/tokenhub-checks\/photo\.png$/m,
    );
  },
};

const dispositionOf = (e: Example) =>
  e.text.startsWith(SCRIPT_KEY) ? scriptDisposition : DISPOSITIONS[e.text];

// PATH as the machine has it: without this suite's node_modules/.bin (Node 24), with the stand-ins first.
const machinePath = (stubs: string) =>
  [stubs, ...(process.env.PATH ?? "").split(delimiter).filter((d) => d && !d.includes("node_modules"))].join(
    delimiter,
  );

// `npx tokenhub-setup ARGS` (and `npx --no-install ...`) as npx runs it: the bin, on the project's Node.
const NPX_AS_BIN = `npx() {
  local args=("$@")
  [ "\${args[0]}" = --no-install ] && args=("\${args[@]:1}")
  if [ "\${args[0]}" = tokenhub-setup ]; then "${process.execPath}" --import "${FAKE_KEYTAR}" "${join(ROOT, "dist", "cli", "main.js")}" "\${args[@]:1}"; else command npx "$@"; fi
}
`;

function sh(command: string, env: Record<string, string>, interruptAfter?: string): Promise<Run> {
  return new Promise((resolve) => {
    // Its own process group, as a terminal's job: Ctrl-C reaches npx and the command it runs.
    const child: ChildProcess = spawn("bash", ["-c", command], { cwd: work, env, detached: true });
    let stdout = "";
    let stderr = "";
    let interrupted = false;
    const group = (signal: NodeJS.Signals) => {
      try {
        process.kill(-(child.pid as number), signal);
      } catch {}
    };
    const timer = setTimeout(() => group("SIGKILL"), 90_000);
    child.stdout?.on("data", (d) => {
      stdout += d;
    });
    child.stderr?.on("data", (d) => {
      stderr += d;
      if (interruptAfter && !interrupted && stderr.includes(interruptAfter)) {
        interrupted = true;
        group("SIGINT");
      }
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe("README examples run as written in a clone", { concurrency: 4 }, () => {
  const all = readmeExamples(README);
  // Each distinct command once (prose mentions `npx tokenhub-setup` several times).
  const examples = all.filter((e, i) => all.findIndex((x) => x.text === e.text) === i);
  let env: Record<string, string>;
  let firstNpx: Run;
  let againNpx: Run;
  before(async () => {
    sim = await startSimulator({ scenario: "happy" });
    freePort = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    // Inside the project (npx finds the project from here), in the ignored .tmp/.
    await mkdir(join(ROOT, ".tmp"), { recursive: true });
    work = await mkdtemp(join(ROOT, ".tmp", "readme-"));
    const stubs = join(work, "stubs");
    await mkdir(stubs);
    await writeFile(join(stubs, "pass"), `#!/bin/sh\necho ${README_KEY}\n`);
    await writeFile(
      join(stubs, "aws"),
      `#!/bin/sh\necho "$*" >> "${join(work, "aws-calls")}"\n[ "$1 $2" = "s3 cp" ] || exit 2\n`,
    );
    for (const stub of ["pass", "aws"]) await chmod(join(stubs, stub), 0o755);
    const script = examples.find((e) => e.text.startsWith(SCRIPT_KEY));
    if (script) {
      await writeFile(join(work, "tokenhub-upload.sh"), script.text, { mode: 0o755 });
      await writeFile(join(work, "photo.png"), "not really a PNG");
    }
    env = {
      PATH: machinePath(stubs),
      HOME: join(work, "home"),
      XDG_STATE_HOME: join(work, "state"),
      TMPDIR: work,
      // No `npm notice` about a newer npm: it would ask the registry.
      npm_config_update_notifier: "false",
      // The first npx of a fresh home links the project into ~/.npm/_npx and runs its prepare script, a build
      // of dist/ under the tests that run dist/ (npm test has just built it).
      npm_config_ignore_scripts: "true",
    };
    await mkdir(env.HOME as string);
    await mkdir(KEYCHAINS, { recursive: true });
    // Once, before the examples: two first runs at once would both link the project into the cache.
    firstNpx = await sh("npx tokenhub-setup --version", env);
    againNpx = await sh("npx tokenhub-setup --version", env);
  });

  after(async () => {
    await sim?.close();
    if (work) await rm(work, { recursive: true, force: true });
    await rm(KEY_FILE_HOME, { recursive: true, force: true });
    await rm(KEYCHAINS, { recursive: true, force: true });
  });

  it("npx, run by the machine's node and npm, finds the clone's command; only its first run warns, and only about the project", (t) => {
    const node = execFileSync("node", ["-p", "process.version"], { env, encoding: "utf8" }).trim();
    t.diagnostic(`the machine's node: ${node}`);
    const warned = (r: Run) => [...r.stderr.matchAll(/EBADENGINE\s+package: '([^']+)'/g)].map((m) => m[1]);
    assert.equal(firstNpx.stdout, `${pkg.version}\n`, firstNpx.stderr);
    assert.deepEqual(
      [...new Set(warned(firstNpx))].filter((p) => !p?.startsWith("tokenhub-setup@")),
      [],
    );
    assert.equal(againNpx.stdout, `${pkg.version}\n`, againNpx.stderr);
    assert.deepEqual(warned(againNpx), []);
  });

  it("every example has a way to run or a reason not to, and every entry here is still an example", () => {
    const texts = new Set(examples.map((e) => e.text));
    const missing = examples.filter((e) => !dispositionOf(e)).map((e) => `README.md:${e.line}: ${e.text}`);
    assert.deepEqual(
      missing,
      [],
      "say in DISPOSITIONS how to run these examples, or why they cannot run here",
    );
    assert.deepEqual(
      Object.keys(DISPOSITIONS).filter((k) => !texts.has(k)),
      [],
      "no longer in README.md",
    );
  });

  it("commands in the README's sh and console blocks run the clone's command through npx", () => {
    for (const e of examples.filter((x) => !x.text.startsWith("#!"))) {
      const words = shellWords(e.text);
      for (const [i, w] of words.entries()) {
        const atCommand =
          i === 0 || ["|", ";", "&&"].includes(words[i - 1] ?? "") || /^\w+=/.test(words[i - 1] ?? "");
        if (w === "tokenhub-setup" && atCommand)
          assert.fail(`README.md:${e.line}: \`${e.text}\` needs npx in a clone`);
      }
    }
  });

  for (const example of examples) {
    const how = dispositionOf(example);
    it(`README.md:${example.line}: ${example.text.split("\n").slice(0, 2).join(" ")}`, async (t) => {
      if (!how) return assert.fail("no disposition (see the first test)");
      if ("skip" in how) return t.skip(how.skip);
      if (how.why) t.diagnostic(how.why);
      const runEnv = { ...env, ...how.env };
      const command = typeof how.run === "function" ? how.run() : (how.run ?? example.text);
      if (command !== example.text) t.diagnostic(`ran: ${command}`);
      if (how.prepare) {
        const prep = await sh(`${NPX_AS_BIN}${how.prepare}`, runEnv);
        assert.equal(prep.code, 0, prep.stderr);
      }
      await how.check(
        await sh(how.realNpx ? command : `${NPX_AS_BIN}${command}`, runEnv, how.interruptAfter),
      );
    });
  }

  it("the command as `npm link` installs it runs on the node first on PATH: Node 24 answers, an old one refuses", async (t) => {
    // npm link makes bin/tokenhub-setup a symlink to dist/cli/main.js (#!/usr/bin/env node).
    const bin = join(work, "linked-bin");
    await mkdir(bin, { recursive: true });
    await symlink(join(ROOT, "dist", "cli", "main.js"), join(bin, "tokenhub-setup")).catch(() => {});
    const current = await sh("tokenhub-setup --version", {
      ...env,
      PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`,
    });
    assert.equal(current.stdout, `${pkg.version}\n`, `${current.stderr}\n(is dist built? npm run build)`);
    const old = oldNode();
    if (!old) return t.skip("no Node older than 22.19 on this machine (CI's system Node 20 runs this case)");
    const refused = await sh("tokenhub-setup --version", {
      ...env,
      PATH: `${bin}:${dirname(old)}:/usr/bin:/bin`,
    });
    assert.equal(refused.code, EXIT.usage);
    assert.match(
      refused.stderr,
      /needs Node\.js 22\.19 or newer; this is [\d.]+\. In a clone of the project, run `npx tokenhub-setup`/,
    );
    const version = execFileSync(old, ["-p", "process.versions.node"], { encoding: "utf8" }).trim();
    // The README quotes this line with the version of CI's system Node.
    assert.ok(README.includes(refused.stderr.trim().replace(version, "20.20.2")), refused.stderr);
  });
});
