// The README's generated sections: the statechart diagram and the configuration table, both read from the code.
// `npm run readme` rewrites them in place; test/docs/readme.test.ts fails when they are stale.
import { readFileSync, writeFileSync } from "node:fs";
import { z } from "zod";
import { statechartMermaid } from "../src/machine/diagram.ts";
import { ConfigSchema } from "../src/schema/config.ts";

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  enum?: unknown[];
  format?: string;
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" \\| ");
  if (s.type === "array") return `${typeOf(s.items ?? {})}[]`;
  if (s.format === "uri") return "URL";
  return Array.isArray(s.type) ? s.type.join(" \\| ") : (s.type ?? "any");
}

function rows(schema: JsonSchema, prefix = ""): string[] {
  const out: string[] = [];
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const path = `${prefix}${name}`;
    if (prop.type === "object" && prop.properties) {
      out.push(...rows(prop, `${path}.`));
      continue;
    }
    const fallback = prop.default === undefined ? "(unset)" : `\`${JSON.stringify(prop.default)}\``;
    out.push(`| \`${path}\` | ${typeOf(prop)} | ${fallback} | ${prop.description ?? ""} |`);
  }
  return out;
}

export function configTable(): string {
  const schema = z.toJSONSchema(ConfigSchema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  return ["| option | type | default | meaning |", "| --- | --- | --- | --- |", ...rows(schema)].join("\n");
}

export const SECTIONS: Record<string, () => string> = {
  statechart: () => `\`\`\`mermaid\n${statechartMermaid()}\n\`\`\``,
  config: configTable,
};

export function renderReadme(text: string): string {
  let out = text;
  for (const [name, render] of Object.entries(SECTIONS)) {
    const start = `<!-- generated:${name} -->`;
    const end = `<!-- /generated:${name} -->`;
    const a = out.indexOf(start);
    const b = out.indexOf(end);
    if (a < 0 || b < a) throw new Error(`README.md lacks the ${start} … ${end} markers`);
    out = `${out.slice(0, a + start.length)}\n${render()}\n${out.slice(b)}`;
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = new URL("../README.md", import.meta.url);
  writeFileSync(path, renderReadme(readFileSync(path, "utf8")));
  console.error("README.md sections regenerated");
}
