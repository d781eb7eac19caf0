/**
 * A command line split into words as a POSIX shell would for the simple lines in our docs: single and double
 * quotes, backslash escapes, and `|`, `;`, `&&`, `>` as words of their own. No expansion, no substitution.
 */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && /["\\$`]/.test(line[i + 1] ?? "")) word += line[++i] as string;
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= "";
    } else if (c === "\\") {
      word = (word ?? "") + (line[++i] ?? "");
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "|" || c === ";" || c === ">" || (c === "&" && line[i + 1] === "&")) {
      if (word !== undefined) words.push(word);
      word = undefined;
      words.push(c === "&" ? "&&" : c);
      if (c === "&") i++;
    } else {
      word = (word ?? "") + c;
    }
  }
  if (quote) throw new Error(`unbalanced ${quote} in: ${line}`);
  if (word !== undefined) words.push(word);
  return words;
}
