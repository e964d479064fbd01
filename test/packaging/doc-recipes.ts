// SPDX-License-Identifier: MIT
// A recipe as docs/platforms.md writes it, for the tests that follow it: the fenced code blocks under
// one heading (up to the next heading of the same or a higher level). A block whose first line names a
// file (`// main.js`, `// vite.config.js: …`, `<!-- www/index.html -->`) is that file; an `sh` block is
// commands, one per line, comments after ` #` dropped.

export interface Recipe {
  /** Path (relative to the project) → contents, first line included. */
  files: Record<string, string>;
  commands: string[];
}

export function readRecipe(markdown: string, heading: string): Recipe {
  const lines = markdown.split("\n");
  const level = (line: string) => /^(#+) /.exec(line)?.[1].length ?? 0;
  const at = lines.findIndex((l) => level(l) > 0 && l.replace(/^#+ /, "") === heading);
  if (at < 0) throw new Error(`docs: no heading '${heading}'`);
  const next = lines.findIndex((l, i) => i > at && level(l) > 0 && level(l) <= level(lines[at]));
  const body = lines.slice(at + 1, next < 0 ? undefined : next).join("\n");
  const recipe: Recipe = { files: {}, commands: [] };
  for (const [, lang, code] of body.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)) {
    if (lang === "sh") {
      recipe.commands.push(...code.split("\n").map((l) => l.replace(/\s+#.*$/, "").trim()).filter(Boolean));
      continue;
    }
    const name = /^(?:\/\/|<!--)\s*([\w./-]+\.\w+)/.exec(code)?.[1];
    if (name) recipe.files[name] = code;
  }
  if (!recipe.commands.length) throw new Error(`docs: '${heading}' has no commands`);
  return recipe;
}
