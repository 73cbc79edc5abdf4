import { parseUsername } from '#core/protocol';
import { confusable, disambiguate } from '#rooms/names';

/** Display names: what a name may contain, and how a room keeps two members from looking like one. */

const parse = (name: string) => parseUsername(name, () => '0000');

describe('a display name', () => {
  it('is NFKC-normalised and trimmed: full-width letters and ligatures become plain ones', () => {
    expect(parse('  ａｌｉｃｅ ')).toBe('alice');
    expect(parse('ﬁona')).toBe('fiona');
    expect(parse('Zoë')).toBe('Zoë');
    expect(parse('محمد')).toBe('محمد');
  });

  /** What the refusal of an invisible or text-direction character says, and that of any other character. */
  const invisible = (codePoint: string) => `invisible or text-direction characters (found ${codePoint})`;
  const found = (codePoint: string) => `(found ${codePoint})`;
  it.each([
    ['a right-to-left override ("alice" on screen)', '\u202Eecila', invisible('U+202E')],
    ['a left-to-right embedding', 'al\u202Aice', invisible('U+202A')],
    ['a bidi isolate', '\u2066alice\u2069', invisible('U+2066')],
    ['a right-to-left mark', 'alice\u200F', invisible('U+200F')],
    ['a zero-width space', 'a\u200Blice', invisible('U+200B')],
    ['a zero-width joiner', 'al\u200Dice', invisible('U+200D')],
    ['a word joiner', 'ali\u2060ce', invisible('U+2060')],
    ['a zero-width no-break space', 'al\uFEFFice', invisible('U+FEFF')],
    ['a soft hyphen', 'al\u00ADice', invisible('U+00AD')],
    ['a tag character', 'alice\u{E0041}', invisible('U+E0041')],
    ['a variation selector', 'alice\uFE0F', invisible('U+FE0F')],
    ['a Hangul filler', '\u3164', invisible('U+1160')],
    ['a Hangul filler beside a name', 'alice\u3164', invisible('U+1160')],
    ['a braille blank after it', 'alice\u2800', found('U+2800')],
    ['a braille blank before it', '\u2800alice', found('U+2800')],
    ['an interlinear annotation anchor inside it', 'al\uFFF9ice', found('U+FFF9')],
    ['an interlinear annotation separator', 'al\uFFFAice', found('U+FFFA')],
    ['an interlinear annotation terminator', 'alice\uFFFB', found('U+FFFB')],
    ['a private-use character', 'alice\uE000', found('U+E000')],
    ['an unassigned code point', 'alice\u0378', found('U+0378')],
    ['an ogham space mark', 'al\u1680ice', found('U+1680')],
    ['parentheses: the numbered form of a name is not for choosing', 'alice (2)', found('U+0028')],
    ['a symbol', 'alice\u2605', found('U+2605')],
  ])('is refused with %s, naming it', (_why, name, says) => {
    expect(() => parse(name)).toThrow(says);
  });

  it('keeps letters, marks and digits of every script, and a short list of punctuation', () => {
    for (const name of [
      "o'neil",
      'j.doe',
      'ann-marie',
      'sam_2',
      'a@b.example',
      'Nguyễn Văn',
      'नमस्ते',
      '李小龙 3',
    ])
      expect(parse(name)).toBe(name.normalize('NFKC'));
  });

  it('makes a run of spaces (any space NFKC maps to U+0020) one, and trims the ends', () => {
    expect(parse('al\u3000\u2003ice')).toBe('al ice');
    expect(parse('\u00A0alice\u202F')).toBe('alice');
  });

  it('is refused with a mark standing alone or towering, or without a letter or digit', () => {
    expect(() => parse('\u0301alice')).toThrow('combining mark');
    expect(() => parse('x\u0306\u0307\u0308\u0309\u030A\u030B')).toThrow('combining mark');
    expect(() => parse('...')).toThrow('a letter or a digit');
  });

  /** Every code point of a general category (assigned in this Node's Unicode). */
  const everyCodePoint = (category: RegExp) => {
    const found: string[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const char = String.fromCodePoint(cp);
      if (category.test(char)) found.push(char);
    }
    return found;
  };

  it('refuses every format character (category Cf) before, inside or after a name', () => {
    const format = everyCodePoint(/^\p{Cf}$/u);
    expect(format.length).toBeGreaterThan(150);
    for (const char of format)
      for (const name of [`${char}alice`, `al${char}ice`, `alice${char}`])
        expect(() => parse(name)).toThrow(/username/);
  });

  it('takes a space character (category Zs) only as the plain space NFKC makes of it, else refuses it', () => {
    const spaces = everyCodePoint(/^\p{Zs}$/u);
    expect(spaces.length).toBeGreaterThan(15);
    for (const char of spaces) {
      const plain = char.normalize('NFKC') === ' ';
      for (const [name, expected] of [
        [`${char}alice`, 'alice'],
        [`al${char}ice`, 'al ice'],
        [`alice${char}`, 'alice'],
      ] as const) {
        if (plain) expect(parse(name)).toBe(expected);
        else expect(() => parse(name)).toThrow(/username/);
      }
    }
  });

  it('is refused when empty after trimming, too long, or with control characters', () => {
    expect(() => parse('   ')).toThrow('1-32 characters');
    expect(() => parse('x'.repeat(33))).toThrow('1-32 characters');
    expect(() => parse('a\u0007b')).toThrow('control characters');
  });

  it('is a guest name when none is given', () => {
    expect(parseUsername(undefined, () => '0042')).toBe('guest-0042');
  });
});

describe('names in a room', () => {
  it.each([
    ['alice', 'аlice'], // Cyrillic а
    ['alice', 'Alice'],
    ['alice', 'ALICE'],
    ['Il', 'll'],
    ['paypal', 'рауpal'], // Cyrillic р, а, у
    ['modern', 'rnodern'],
  ])('finds %s and %s confusable', (a, b) => {
    expect(confusable(a, b)).toBe(true);
  });

  it('tells different names apart', () => {
    expect(confusable('alice', 'alicia')).toBe(false);
    expect(confusable('alice', 'alice (2)')).toBe(false);
  });

  it('gives the second "alice" (or "аlice") a number, and the next free one after that', () => {
    expect(disambiguate('alice', [])).toBe('alice');
    expect(disambiguate('alice', ['bob'])).toBe('alice');
    expect(disambiguate('alice', ['alice'])).toBe('alice (2)');
    expect(disambiguate('аlice', ['alice'])).toBe('аlice (2)');
    expect(disambiguate('alice', ['Alice', 'alice (2)'])).toBe('alice (3)');
    // Someone who chose "alice (2)" themselves does not take the place of the numbered alice.
    expect(disambiguate('alice (2)', ['alice (2)'])).toBe('alice (2) (2)');
  });

  it('keeps a numbered name within 32 characters', () => {
    const long = `${'ł'.repeat(31)}x`;
    const numbered = disambiguate(long, [long]);
    expect([...numbered]).toHaveLength(32);
    expect(numbered).toBe(`${'ł'.repeat(28)} (2)`);
  });
});
