import { describe, expect, it } from 'vitest';
import { dropUnnamedKeys } from '../src/ui/stdin-guard.js';

describe('dropUnnamedKeys: what Ink 6 would read as Ctrl plus a key without a name', () => {
  it.each([
    ['the terminal status reply', '\x1b[0n'],
    ['a device status report', '\x1b[5n'],
    ['a pasted colour', '\x1b[31m'],
    ['a pasted reset', '\x1b[0m'],
  ])('%s is dropped', (_, seq) => {
    expect(dropUnnamedKeys(seq)).toBe('');
    expect(dropUnnamedKeys(`a${seq}b`)).toBe('ab');
  });

  it.each([
    ['up', '\x1b[A'],
    ['ctrl+up', '\x1b[1;5A'],
    ['page down', '\x1b[6~'],
    ['ctrl+page down', '\x1b[6^'],
    ['F1 (xterm)', '\x1bOP'],
    ['F5', '\x1b[15~'],
    ['shift+tab', '\x1b[Z'],
    ['Home (rxvt)', '\x1b[7~'],
    ['Escape alone', '\x1b'],
    ['a cursor position report (no key, and no Ctrl either)', '\x1b[12;40R'],
    ['plain text', 'users 2026'],
  ])('%s passes as it came', (_, seq) => {
    expect(dropUnnamedKeys(seq)).toBe(seq);
  });
});
