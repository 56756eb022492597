import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import fc from 'fast-check';
import { LoginDto } from '../auth/dto/credentials.dto';
import { EMAIL_PROBLEMS, emailProblem, normalizeEmail } from './email';

const H_MACRON_BELOW = 'H\u0331acker@example.com';
const H_WITH_LINE_BELOW = '\u1e96acker@example.com';

/** Every code point but the surrogates, as a one-character string. */
const everyCodePoint = (): string[] => {
  const chars: string[] = [];
  for (let cp = 0; cp <= 0x10ffff; cp++) if (cp < 0xd800 || cp > 0xdfff) chars.push(String.fromCodePoint(cp));
  return chars;
};
const ALL = everyCodePoint();
/** The characters normalisation acts on: cased letters, combining marks, compatibility forms, spaces. */
const CASED = ALL.filter((c) => c.toLowerCase() !== c || c.toUpperCase() !== c);
const UPPER = CASED.filter((c) => c.toLowerCase() !== c);
/** Each precomposed character decomposed, its base in the other case: `ẖ` gives `H`+U+0331. */
const RECASED_DECOMPOSITIONS = ALL.filter((c) => c.normalize('NFD') !== c).map((c) => {
  const [base, ...marks] = c.normalize('NFD');
  return (base.toUpperCase() === base ? base.toLowerCase() : base.toUpperCase()) + marks.join('');
});
const MARKS = ALL.filter((c) => /\p{M}/u.test(c));
const COMPATIBLE = ALL.filter((c) => c.normalize('NFKC') !== c);
const SPACES = ALL.filter((c) => /\s/u.test(c));

const pick = (pool: string[]) => fc.nat(pool.length - 1).map((i) => pool[i]);
/** Strings dense in what normalisation changes (plus any code point, lone surrogates included). */
const hostileString = fc.string({
  unit: fc.oneof(
    pick(CASED),
    pick(MARKS),
    fc.tuple(pick(UPPER), pick(MARKS)).map(([letter, mark]) => letter + mark),
    pick(RECASED_DECOMPOSITIONS),
    pick(COMPATIBLE),
    pick(SPACES),
    fc.string({ unit: 'binary', maxLength: 1 }),
    fc.constantFrom('\ud800', '\udfff', '@', '.'),
  ),
  maxLength: 12,
});

describe('normalizeEmail', () => {
  it('gives H + U+0331 and U+1E96 one spelling, the one the attack run reached the account with', () => {
    expect(normalizeEmail(H_MACRON_BELOW)).toBe(H_WITH_LINE_BELOW);
    expect(normalizeEmail(H_WITH_LINE_BELOW)).toBe(H_WITH_LINE_BELOW);
    expect(normalizeEmail(normalizeEmail(H_MACRON_BELOW))).toBe(normalizeEmail(H_MACRON_BELOW));
  });

  it('trims, lower-cases, composes, and folds compatibility forms', () => {
    expect(normalizeEmail('  Ada@Example.COM \n')).toBe('ada@example.com');
    expect(normalizeEmail('jose\u0301@example.com')).toBe('jos\u00e9@example.com');
    expect(normalizeEmail('ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ')).toBe('alice@example.com');
    expect(normalizeEmail('\u210Cacker@example.com')).toBe('hacker@example.com');
  });

  it('is a fixed point for every code point alone', () => {
    const notIdempotent = ALL.filter((c) => normalizeEmail(normalizeEmail(c)) !== normalizeEmail(c)).map((c) => `U+${c.codePointAt(0)!.toString(16)}`);
    expect(notIdempotent).toEqual([]);
  });

  it('is a fixed point for every upper-case letter followed by every combining mark (the attack run’s 102 pairs among them)', () => {
    const pairs = UPPER.flatMap((letter) => MARKS.map((mark) => letter + mark));
    expect(pairs.filter((pair) => normalizeEmail(normalizeEmail(pair)) !== normalizeEmail(pair))).toEqual([]);
  });

  it('is idempotent on random Unicode strings', () => {
    fc.assert(
      fc.property(fc.oneof(hostileString, fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })), (s) => {
        expect(normalizeEmail(normalizeEmail(s))).toBe(normalizeEmail(s));
      }),
      { numRuns: 5000 },
    );
  });

  it('gives canonically equivalent spellings (NFC, NFD) one key', () => {
    fc.assert(
      fc.property(hostileString, (s) => {
        expect(normalizeEmail(s.normalize('NFD'))).toBe(normalizeEmail(s));
        expect(normalizeEmail(s.normalize('NFC'))).toBe(normalizeEmail(s));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('emailProblem', () => {
  it.each([
    'ada@example.com',
    '  Ada@Example.com ',
    H_MACRON_BELOW,
    H_WITH_LINE_BELOW,
    'zoë@example.com',
    'δοκιμή@παράδειγμα.δοκιμή',
    'иван@почта.рф',
    '用户@例子.广告',
    'たなかタロウ@example.jp',
    'tanaka太郎@example.jp',
    '김철수@example.kr',
    'ทำ@example.com',
  ])('accepts %j', (email) => {
    expect(emailProblem(email)).toBeUndefined();
  });

  it.each([
    ['a zero-width space', 'ali\u200bce@example.com', EMAIL_PROBLEMS.invisible],
    ['a right-to-left override', 'ali\u202ece@example.com', EMAIL_PROBLEMS.invisible],
    ['a soft hyphen', 'ali\u00adce@example.com', EMAIL_PROBLEMS.invisible],
    ['a Hangul filler (a default-ignorable letter)', 'ali\u3164ce@example.com', EMAIL_PROBLEMS.invisible],
    ['a variation selector', 'alice\ufe0f@example.com', EMAIL_PROBLEMS.invisible],
    ['a no-break space inside', 'ali\u00a0ce@example.com', EMAIL_PROBLEMS.invisible],
    ['an ideographic space inside', 'ali\u3000ce@example.com', EMAIL_PROBLEMS.invisible],
    ['a tab', 'ali\tce@example.com', EMAIL_PROBLEMS.invisible],
    ['fullwidth letters', 'ａｌｉｃｅ@example.com', EMAIL_PROBLEMS.compatibility],
    ['a fullwidth at sign', 'alice＠example.com', EMAIL_PROBLEMS.compatibility],
    ['a ligature', 'ﬁona@example.com', EMAIL_PROBLEMS.compatibility],
    ['mathematical bold letters', '𝐚𝐥𝐢𝐜𝐞@example.com', EMAIL_PROBLEMS.compatibility],
    ['a long s', 'ſam@example.com', EMAIL_PROBLEMS.compatibility],
    ['an emoji', '🦄@example.com', EMAIL_PROBLEMS.symbol],
    ['a modifier-letter apostrophe', 'o\u02bcbrien@example.com', EMAIL_PROBLEMS.symbol],
    ['a Unicode hyphen', 'jean\u2010luc@example.com', EMAIL_PROBLEMS.symbol],
    ['Cherokee letters that look Latin', '\u13aa\u13b3\u13a5@example.com', EMAIL_PROBLEMS.rareScript],
    ['Cyrillic а in a Latin local part', 'p\u0430ypal@example.com', EMAIL_PROBLEMS.mixedScripts],
    ['Cyrillic а in a Latin domain label', 'alice@ex\u0430mple.com', EMAIL_PROBLEMS.mixedScripts],
    ['Greek ο in a Latin label', 'g\u03bfogle@example.com', EMAIL_PROBLEMS.mixedScripts],
    ['a Devanagari digit in a Latin label', 'alice\u0967@example.com', EMAIL_PROBLEMS.mixedScripts],
    ['Hangul with Hiragana', '김た@example.com', EMAIL_PROBLEMS.mixedScripts],
    ['a combining mark first in a label', 'alice@\u0301example.com', EMAIL_PROBLEMS.leadingMark],
  ])('refuses %s', (_, email, problem) => {
    expect(emailProblem(email)).toBe(problem);
    expect(emailProblem(email)).toMatch(/^email must not /);
  });

  it('refuses an email with any invisible or format character inserted anywhere', () => {
    const invisible = ALL.filter((c) => /[\p{Cf}\p{Default_Ignorable_Code_Point}]/u.test(c));
    fc.assert(
      fc.property(pick(invisible), fc.nat(17), (c, at) => {
        const email = 'alice@example.com';
        expect(emailProblem(email.slice(0, at) + c + email.slice(at))).toBe(EMAIL_PROBLEMS.invisible);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps accepting an accepted spelling once it is normalised (every code point, first in a label and after a letter)', () => {
    const emails = ALL.flatMap((c) => [`${c}@example.com`, `a@b${c}.com`]);
    expect(emails.filter((email) => emailProblem(email) === undefined && emailProblem(normalizeEmail(email)) !== undefined)).toEqual([]);
  });

  it('keeps accepting an accepted spelling once it is normalised (random strings)', () => {
    fc.assert(
      fc.property(hostileString, hostileString, (local, domain) => {
        const email = `${local}@${domain}.com`;
        if (emailProblem(email) === undefined) expect(emailProblem(normalizeEmail(email))).toBeUndefined();
      }),
      { numRuns: 5000 },
    );
  });
});

describe('@IsAcceptableEmail on LoginDto', () => {
  const check = async (email: string) => {
    const dto = plainToInstance(LoginDto, { email, password: 'x' });
    return { dto, messages: (await validate(dto)).flatMap((e) => Object.values(e.constraints ?? {})) };
  };

  it('hands the route the normal form of an accepted spelling', async () => {
    const { dto, messages } = await check(H_MACRON_BELOW);
    expect(messages).toEqual([]);
    expect(dto.email).toBe(H_WITH_LINE_BELOW);
  });

  it('refuses the fullwidth spelling it would otherwise fold away, naming the reason', async () => {
    const { messages } = await check('ａｌｉｃｅ@example.com');
    expect(messages).toContain(EMAIL_PROBLEMS.compatibility);
  });

  it('refuses an invisible character', async () => {
    const { messages } = await check('ali\u200bce@example.com');
    expect(messages).toContain(EMAIL_PROBLEMS.invisible);
  });
});
