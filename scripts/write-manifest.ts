// Writes skill.manifest.json from the zod schemas (npm run manifest). test/schema/manifest.test.ts fails when
// the committed file differs, so the contract a runtime reads cannot drift from the code.
import { readFileSync, writeFileSync } from "node:fs";
import { buildManifest } from "../src/schema/manifest.ts";

const root = new URL("../", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as { version: string };
writeFileSync(
  new URL("skill.manifest.json", root),
  `${JSON.stringify(buildManifest(pkg.version), null, 2)}\n`,
);
console.error("skill.manifest.json written");
