import { Box, measureElement, Text, type DOMElement } from 'ink';
import { useEffect, useRef, useState, type ComponentProps } from 'react';
import { wrapWords } from '../../core/format.js';

type TextStyle = Omit<ComponentProps<typeof Text>, 'children' | 'wrap'>;

/**
 * Text folded at spaces to the width its box is given, each line without a leading space. Ink's own
 * `wrap="wrap"` (wrap-ansi without trimming) starts a line with the space that followed a word ending exactly at
 * the edge (" archivo de identidad"). Drawn once with Ink's wrap, then, once its width is measured, folded by
 * wrapWords (as the CLI folds its text); measured again on every render, so a resized terminal folds it anew.
 * Its box takes the whole width of its parent (not its text's: folding narrower would narrow it again).
 */
export function Para({
  children,
  maxLines,
  more,
  ...style
}: {
  children: string | readonly (string | number)[];
  /** At most this many lines: the first ones and `more(n)` saying how many were left out. */
  maxLines?: number;
  more?: (n: number) => string;
} & TextStyle) {
  const text = typeof children === 'string' ? children : children.join('');
  const ref = useRef<DOMElement>(null);
  const [width, setWidth] = useState(0);
  useEffect(() => {
    if (!ref.current) return;
    const w = Math.floor(measureElement(ref.current).width);
    if (w > 0 && w !== width) setWidth(w);
  });
  return (
    <Box ref={ref} flexDirection="column" width="100%">
      {width > 0 ? (
        capLines(wrapWords(text, width), maxLines, more).map((line, i) => (
          <Text key={i} {...style}>
            {line}
          </Text>
        ))
      ) : (
        <Text wrap="wrap" {...style}>
          {text}
        </Text>
      )}
    </Box>
  );
}

/** `lines`, or when more than `max`, the first `max - 1` and a line saying how many more there are. */
export function capLines(
  lines: string[],
  max: number | undefined,
  more: ((n: number) => string) | undefined,
): string[] {
  if (max === undefined || !more || lines.length <= max) return lines;
  const keep = Math.max(1, max - 1);
  return [...lines.slice(0, keep), more(lines.length - keep)];
}
