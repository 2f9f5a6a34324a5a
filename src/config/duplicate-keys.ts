import { joinPath } from './schema.js';

/** A key written twice in one object: its JSON path and the lines of both. */
export interface DuplicateKey {
  path: string;
  firstLine: number;
  line: number;
}

type Frame =
  | { kind: 'object'; path: string; keys: Map<string, number>; key: string | null }
  | { kind: 'array'; path: string; index: number };

/**
 * The first key given twice in one object of `text`, which JSON.parse accepted, or null. JSON.parse keeps the
 * last silently: a second `"databases": [ … ]` pasted below the first dropped every database of the first from
 * the backups without a word. Pure.
 */
export function duplicateKey(text: string): DuplicateKey | null {
  const stack: Frame[] = [];
  const pathOfNext = (): string => {
    const top = stack[stack.length - 1];
    if (!top) return '';
    return top.kind === 'object' ? joinPath(top.path, top.key ?? '') : `${top.path}[${top.index}]`;
  };
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line += 1;
    else if (c === '"') {
      // A string of valid JSON: it ends at the first quote not escaped, and holds no line break.
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      let after = end + 1;
      while (text[after] === ' ' || text[after] === '\t' || text[after] === '\r' || text[after] === '\n') after++;
      const top = stack[stack.length - 1];
      if (top?.kind === 'object' && text[after] === ':') {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        const firstLine = top.keys.get(key);
        if (firstLine !== undefined) return { path: joinPath(top.path, key), firstLine, line };
        top.keys.set(key, line);
        top.key = key;
      }
      i = end;
    } else if (c === '{') stack.push({ kind: 'object', path: pathOfNext(), keys: new Map(), key: null });
    else if (c === '[') stack.push({ kind: 'array', path: pathOfNext(), index: 0 });
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.kind === 'array') top.index += 1;
    }
  }
  return null;
}
