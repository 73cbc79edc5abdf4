import { confusable, disambiguate } from '../../functions/shared/names';
import { parseUsername } from '../../functions/shared/protocol';

/** Display names: what a name may contain, and how a room keeps two members from looking like one. */

const parse = (name: string) => parseUsername(name, () => '0000');

describe('a display name', () => {
  it('is NFKC-normalised and trimmed: full-width letters and ligatures become plain ones', () => {
    expect(parse('  ａｌｉｃｅ ')).toBe('alice');
    expect(parse('ﬁona')).toBe('fiona');
    expect(parse('Zoë')).toBe('Zoë');
    expect(parse('محمد')).toBe('محمد');
  });

  it.each([
    ['a right-to-left override ("alice" on screen)', '\u202Eecila', 'U+202E'],
    ['a left-to-right embedding', 'al\u202Aice', 'U+202A'],
    ['a bidi isolate', '\u2066alice\u2069', 'U+2066'],
    ['a right-to-left mark', 'alice\u200F', 'U+200F'],
    ['a zero-width space', 'a\u200Blice', 'U+200B'],
    ['a zero-width joiner', 'al\u200Dice', 'U+200D'],
    ['a word joiner', 'ali\u2060ce', 'U+2060'],
    ['a zero-width no-break space', 'al\uFEFFice', 'U+FEFF'],
    ['a soft hyphen', 'al\u00ADice', 'U+00AD'],
    ['a tag character', 'alice\u{E0041}', 'U+E0041'],
    ['a variation selector', 'alice\uFE0F', 'U+FE0F'],
    ['a Hangul filler', '\u3164', 'U+1160'],
  ])('is refused with %s, naming it', (_why, name, codePoint) => {
    expect(() => parse(name)).toThrow(`invisible or text-direction characters (found ${codePoint})`);
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
