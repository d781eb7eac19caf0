import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";

/** A `node` on this machine older than 22.19 (CI's system Node is 20), outside any node_modules; else undefined. */
export function oldNode(): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/local/bin", "/usr/bin", "/bin"];
  for (const dir of dirs.filter((d) => d && !d.includes("node_modules"))) {
    const node = join(dir, "node");
    if (!existsSync(node)) continue;
    try {
      const [major = 0, minor = 0] = execFileSync(node, ["-p", "process.versions.node"], { encoding: "utf8" })
        .trim()
        .split(".")
        .map(Number);
      if (major < 22 || (major === 22 && minor < 19)) return node;
    } catch {}
  }
  return undefined;
}
