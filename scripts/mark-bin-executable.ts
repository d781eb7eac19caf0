// Marks every `bin` entry of package.json executable after `tsc` emits it (npm run build, and so `prepare`).
// tsc writes files 0644; npm sets the mode when it installs a package from a registry or tarball, but not for the
// project's own bin, so `npx tokenhub-setup` in a fresh clone failed with "Permission denied" without this.
import { chmodSync, readFileSync } from "node:fs";

const root = new URL("../", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as {
  bin: Record<string, string>;
};
for (const file of Object.values(pkg.bin)) chmodSync(new URL(file, root), 0o755);
