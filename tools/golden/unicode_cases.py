"""Hand-written edge cases for unicode.jsonl: (id, note, text, text_b or None).

Escapes are used for every invisible or easily confused character so that
the source shows exactly what is tested.
"""

from __future__ import annotations


def _repeat_to(morpheme: str, length: int) -> str:
    """``morpheme`` repeated and cut to exactly ``length`` code points."""
    return (morpheme * (length // len(morpheme) + 1))[:length]


def _numbered(prefix: str, count: int) -> str:
    return " ".join(f"{prefix}{i}" for i in range(count))


SINGLE_CASES: list[tuple[str, str, str]] = [
    ("empty", "empty string: no tokens", ""),
    ("ascii_whitespace", "only ASCII whitespace", " \t\n\r\x0b\x0c  "),
    ("exotic_whitespace", "only whitespace per Python str.isspace, incl. U+001C..U+001F",
     "\x1c\x1d\x1e\x1f\x85\xa0\u2028\u2029\u3000\u1680\u2009"),
    ("info_separators_between_words", "U+001C..U+001F are \\s in Python re but not in Rust regex",
     "a\x1cb\x1dc\x1ed\x1fe"),
    ("unicode_spaces_between_words", "NBSP, LINE SEPARATOR, ideographic space, thin spaces",
     "a\xa0b\u2028c\u3000d\u2009e\u202ff\x85g"),
    ("combining_acute", "decomposed e + U+0301: the mark is not \\w in Python re", "cafe\u0301"),
    ("double_combining", "two stacked combining acutes", "e\u0301\u0301"),
    ("combining_only", "combining marks without a base", "\u0301\u0302 x\u0327"),
    ("precomposed_accents", "precomposed upper-case accents, lower-cased",
     "\u00c0\u00c9\u00ce\u00d5\u00dc \u00d1and\u00da"),
    ("zwj_emoji_family", "emoji family joined with ZWJ U+200D",
     "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"),
    ("zwj_between_letters", "ZWJ between letters (Join_Control is \\w in Rust only)", "a\u200db"),
    ("zwnj_persian", "Persian word with ZWNJ U+200C", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"),
    ("circled_letters", "circled letters are So, Alphabetic (\\w in Rust, not Python)",
     "\u24b6\u24d1 \u24b6bc"),
    ("circled_digits", "circled digits are No (numeric: \\w in Python)", "\u2460\u2461 \u2460a"),
    ("number_forms", "roman numerals (Nl), vulgar fraction and superscript (No)",
     "\u216b \u217b \u00bd \u00b2"),
    ("superscripts_subscripts", "superscript / subscript digits", "x\u00b2 + y\u00b3 = z\u2074 H\u2082O"),
    ("turkish_dotted_capital_i", "U+0130 lower-cases to i + U+0307", "\u0130stanbul"),
    ("turkish_i_variants", "I, dotless i, dotted capital I", "I \u0131 \u0130 \u0131rmak"),
    ("german_sharp_s", "sharp s and capital sharp s", "\u00df \u1e9e Stra\u00dfe STRASSE"),
    ("greek_final_sigma", "final sigma context of str.lower", "\u039f\u0394\u039f\u03a3 \u03a3\u0391\u03a3"),
    ("greek_sigma_alone", "a lone capital sigma lower-cases to U+03C3", "\u03a3"),
    ("greek_sigma_punct", "sigma before punctuation and inside a word",
     "\u039f\u03a3. \u0391\u03a3\u0391"),
    ("ligatures", "ligatures fi, fl, ffi (lower-case unchanged)", "\ufb01nance \ufb02y \ufb03"),
    ("fullwidth", "fullwidth Latin letters and digits", "\uff21\uff22\uff23\uff11\uff12\uff13"),
    ("arabic", "Arabic with harakat (combining vowel marks)",
     "\u0645\u064e\u0631\u0652\u062d\u064e\u0628\u064b\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645"),
    ("hebrew", "Hebrew with niqqud", "\u05e9\u05c1\u05b8\u05dc\u05d5\u05b9\u05dd \u05e2\u05d5\u05dc\u05dd"),
    ("devanagari", "Devanagari with virama and vowel signs (Mn/Mc)",
     "\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e"),
    ("thai", "Thai with combining vowels and tone marks",
     "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35\u0e0a\u0e32\u0e27\u0e42\u0e25\u0e01"),
    ("cjk", "Chinese with fullwidth punctuation",
     "\u4e2d\u6587\u5206\u8bcd\u6d4b\u8bd5\uff0c\u4f60\u597d\uff01"),
    ("japanese", "kanji, hiragana, katakana, long vowel mark",
     "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3001\u30ab\u30bf\u30ab\u30ca\u30fc\u3002"),
    ("hangul", "Hangul syllables", "\uc548\ub155\ud558\uc138\uc694 \uc138\uacc4"),
    ("cyrillic", "Cyrillic upper and lower case", "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440!"),
    ("vietnamese", "Vietnamese stacked diacritics (precomposed)",
     "Ti\u1ebfng Vi\u1ec7t c\u00f3 d\u1ea5u"),
    ("underscores", "underscores are \\w", "__init__ _ a_b ___"),
    ("digits_decimal", "decimal point, thousands, dates", "3.14 1,000,000 2024-11-26"),
    ("digits_other_scripts", "Arabic-Indic, Devanagari, Thai digits (Nd)",
     "\u0663\u0664\u0665 \u096a\u096b\u096c \u0e51\u0e52\u0e53"),
    ("letters_digits_mixed", "digit runs split from letters by the GPT-2 regex", "abc123def 123abc a1"),
    ("emoji", "emoji with variation selector", "I \u2764\ufe0f \U0001f355 \U0001f389!"),
    ("variation_selectors", "text / emoji presentation selectors", "\u263a\ufe0f \u263a\ufe0e"),
    ("control_chars", "NUL, SOH, DEL and NUL inside a word", "\x00\x01\x7f a\x00b"),
    ("bidi_marks", "LRM / RLM (Cf) between letters", "a\u200eb\u200fc"),
    ("soft_hyphen_bom", "soft hyphen inside a word and a leading BOM", "co\u00adop \ufeffhello"),
    ("special_tokens_literal", "special-token strings are split like any text",
     "<s> </s> <pad> <unk> <mask>"),
    ("mixed_punctuation", "punctuation runs", "?!... \"quoted\"?! -- ;-) (a)"),
    ("email_hyphen", "hyphenated words, e-mail address", "e-mail co-operate x@y.com"),
    ("hyphen_only", "a run of hyphens", "---"),
    ("single_hyphen", "the one-piece word '-' keeps its only feature", "-"),
    ("hyphen_edges", "a- and -a", "a- -a"),
    ("hyphen_underscore_runs", "hyphens next to underscores and dots", "-_- _-_ -.- a_-_b"),
    ("apostrophes", "GPT-2 contraction rules never see letters next to '",
     "don't it's we're I've y'all ''"),
    ("currency", "currency symbols", "$100 \u20ac50 \u00a51000 \u00a35"),
    ("url", "URL with punctuation runs", "https://example.com/path?q=1&x=2#frag"),
    ("compat_letters", "Kelvin sign, Ohm sign, Angstrom sign (lower-case to k, omega, a-ring)",
     "\u212a \u2126 \u212b"),
    ("titlecase_digraphs", "Dz, Lj, Nj digraphs", "\u01c4 \u01c5 \u01c8 \u01cb"),
    ("math_fraktur", "non-BMP mathematical letters", "\U0001d518\U0001d52b\U0001d526\U0001d520\U0001d52c\U0001d521\U0001d522"),
    ("math_double_struck_digits", "non-BMP mathematical digits (Nd)", "\U0001d7d9\U0001d7da"),
    ("tabs_newlines", "tabs, LF, CRLF, CR", "line one\tcol\nline two\r\nline three\rend"),
    ("private_use", "private-use character (Co)", "a\ue000b"),
    ("long_punct_run", "a 60-character punctuation run", "!" * 60),
    ("spec_worked_example", "the worked example of spec 2.1",
     "Hello world! My dog's cute... e-mail: x@y.com 3.14 na\u00efve CAF\u00c9 __init__ \"quoted\"?!"),
    ("long_word_50", "50-char word of repeated morphemes", _repeat_to("antidisestablishment", 50)),
    ("long_word_200", "200-char word", _repeat_to("antidisestablishment", 200)),
    ("long_word_512", "512-char word: the longest word with LSH values", _repeat_to("antidisestablishment", 512)),
    ("long_word_600", "600-char word: LSH fields are null, MD5 fields exact",
     _repeat_to("antidisestablishment", 600) + " short"),
    ("long_nonascii_500", "500-char non-ASCII word (n in code points, piece length in bytes)",
     "na\u00efve" * 100),
]

PAIR_CASES: list[tuple[str, str, str, str]] = [
    ("pair_empty_a", "empty first text", "", "hello world"),
    ("pair_empty_both", "both texts empty", "", ""),
    ("pair_whitespace_b", "second text only whitespace", "hi there", "\u3000\x1f \n"),
    ("pair_turkish", "dotted capital I vs plain i", "\u0130stanbul", "istanbul \u0131stanbul"),
    ("pair_greek", "final sigma in both texts", "\u039f\u0394\u039f\u03a3", "\u03bf\u03b4\u03bf\u03c2 \u03a3"),
    ("pair_combining", "decomposed vs precomposed", "cafe\u0301", "caf\u00e9"),
    ("pair_cjk_hangul", "CJK vs Hangul", "\u4f60\u597d\u4e16\u754c", "\uc548\ub155 \uc138\uacc4"),
    ("pair_emoji_zwj", "emoji ZWJ sequence vs plain emoji",
     "\U0001f468\u200d\U0001f469\u200d\U0001f467", "\U0001f468 \U0001f469 \U0001f467"),
    ("pair_6_6", "12 words: fits max_length 16 exactly", _numbered("a", 6), _numbered("b", 6)),
    ("pair_6_7", "13 words, n1 <= n2, n1 >= thres(16)=6: both cut to 6", _numbered("a", 6), _numbered("b", 7)),
    ("pair_3_20", "n1 < thres: A kept, B cut", _numbered("a", 3), _numbered("b", 20)),
    ("pair_20_3", "n2 < thres: B kept, A cut", _numbered("a", 20), _numbered("b", 3)),
    ("pair_8_10", "n1 <= n2 >= thres: both cut to thres", _numbered("a", 8), _numbered("b", 10)),
    ("pair_10_8", "n1 > n2 >= thres: both cut to thres", _numbered("a", 10), _numbered("b", 8)),
    ("pair_5_8", "n1 < thres(16): A kept, B cut to 7", _numbered("a", 5), _numbered("b", 8)),
    ("pair_70_70", "truncation at 128: both cut to 62", _numbered("x", 70), _numbered("y", 70)),
    ("pair_10_130", "truncation at 128: A kept, B cut to 114", _numbered("x", 10), _numbered("y", 130)),
    ("pair_long_words", "long words in a pair",
     _repeat_to("antidisestablishment", 200), "na\u00efve" * 40),
]

SINGLE_LENGTH_CASES: list[tuple[str, str, str]] = [
    ("single_14_words", "14 words: fits max_length 16 exactly", _numbered("w", 14)),
    ("single_15_words", "15 words: one cut at max_length 16", _numbered("w", 15)),
    ("single_130_words", "130 words: cut at max_length 128", _numbered("w", 130)),
]


def all_cases() -> list[tuple[str, str, str, str | None]]:
    """Every case as (id, note, text, text_b or None)."""
    cases = [(cid, note, text, None) for cid, note, text in SINGLE_CASES + SINGLE_LENGTH_CASES]
    cases += PAIR_CASES
    ids = [c[0] for c in cases]
    assert len(ids) == len(set(ids)), "duplicate case id"
    return cases
