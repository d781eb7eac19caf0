// Writes skill.manifest.json and openclaw.plugin.json from the zod schemas (npm run manifest).
// test/docs/generated.test.ts fails when a committed file differs, so neither contract can drift from the code.
import { readFileSync, writeFileSync } from "node:fs";
import { REST_STATES } from "../src/machine/face.ts";
import { buildPluginManifest } from "../src/openclaw/manifest.ts";
import { buildManifest } from "../src/schema/manifest.ts";

const root = new URL("../", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as { version: string };
const write = (name: string, value: unknown) =>
  writeFileSync(new URL(name, root), `${JSON.stringify(value, null, 2)}\n`);
write("skill.manifest.json", buildManifest(pkg.version, { restStates: REST_STATES }));
write("openclaw.plugin.json", buildPluginManifest(pkg.version));
console.error("skill.manifest.json and openclaw.plugin.json written");
