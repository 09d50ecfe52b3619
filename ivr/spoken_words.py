"""Amounts and dates as the words a caller hears, in Mandarin and English. Pure.

Each word is a short prompt rendered once (`hotline prompts build`); an amount is said
by playing its words in order. Asterisk's own number sayings need sound packages that
Debian does not ship for Mandarin.
"""

from __future__ import annotations

import datetime as dt

ZH_DIGITS = ["ling", "yi", "er", "san", "si", "wu", "liu", "qi", "ba", "jiu"]
ZH_WORDS = {  # word -> Mandarin text to render
    **dict(zip(ZH_DIGITS, "零一二三四五六七八九", strict=True)),
    "shi": "十", "bai": "百", "qian": "千", "wan": "万", "yi_100m": "亿",
    "yuan": "元", "jiao": "角", "fen": "分", "qianfei": "欠费", "nian": "年", "yue": "月",
    "ri": "日",
}
EN_SMALL = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
            "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
            "seventeen", "eighteen", "nineteen"]
EN_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty",
           "ninety"]
EN_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
             "september", "october", "november", "december"]
EN_WORDS = {w: w for w in [*EN_SMALL, *EN_TENS[2:], *EN_MONTHS, "hundred", "thousand",
                           "million", "yuan", "fen", "minus", "and"]}
WORDS = {"zh": ZH_WORDS, "en": EN_WORDS}


def zh_number(n: int) -> list[str]:
    """0 <= n < 10^12, in Mandarin words (一千零五, 十二 not 一十二)."""
    if n == 0:
        return ["ling"]
    out: list[str] = []
    for unit_value, unit in ((10**8, "yi_100m"), (10**4, "wan"), (1, "")):
        group, n = divmod(n, unit_value)
        if group:
            if out and group < 1000:
                out.append("ling")  # 一万零五百
            out += _zh_below_10000(group, leading=not out)
            if unit:
                out.append(unit)
    return out


def _zh_below_10000(n: int, leading: bool) -> list[str]:
    out: list[str] = []
    zero_pending = False
    for value, unit in ((1000, "qian"), (100, "bai"), (10, "shi"), (1, "")):
        digit, n = divmod(n, value)
        if digit == 0:
            zero_pending = bool(out)
            continue
        if zero_pending:
            out.append("ling")
            zero_pending = False
        if not (unit == "shi" and digit == 1 and leading and not out):
            out.append(ZH_DIGITS[digit])
        if unit:
            out.append(unit)
    return out


def en_number(n: int) -> list[str]:
    """0 <= n < 10^9, in English words."""
    if n < 20:
        return [EN_SMALL[n]]
    if n < 100:
        tens, ones = divmod(n, 10)
        return [EN_TENS[tens]] + ([EN_SMALL[ones]] if ones else [])
    for value, unit in ((10**6, "million"), (1000, "thousand"), (100, "hundred")):
        if n >= value:
            head, rest = divmod(n, value)
            return en_number(head) + [unit] + (en_number(rest) if rest else [])
    raise AssertionError(n)


def money(fen: int, language: str) -> list[str]:
    """An amount in fen (1/100 yuan); negative is arrears."""
    words: list[str] = []
    if fen < 0:
        words.append("qianfei" if language == "zh" else "minus")
        fen = -fen
    yuan, rest = divmod(fen, 100)
    jiao, cents = divmod(rest, 10)
    if language == "zh":
        if yuan or not rest:
            words += [*zh_number(yuan), "yuan"]
        if jiao:
            words += [ZH_DIGITS[jiao], "jiao"]
        if cents:
            words += (["ling"] if yuan and not jiao else []) + [ZH_DIGITS[cents], "fen"]
        return words
    words += [*en_number(yuan), "yuan"]
    if rest:
        words += ["and", *en_number(rest), "fen"]
    return words


def date(day: dt.date, language: str) -> list[str]:
    if language == "zh":
        year = [ZH_DIGITS[int(d)] for d in str(day.year)]
        return [*year, "nian", *zh_number(day.month), "yue", *zh_number(day.day), "ri"]
    return [EN_MONTHS[day.month - 1], *en_number(day.day), *en_number(day.year)]
