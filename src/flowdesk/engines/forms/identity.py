"""China's identity numbers checked by their standards, through well-kept libraries.

- resident ID (居民身份证号, GB 11643): 18 characters, region code, birth date, check
  digit — python-stdnum's `cn.ric` supplies the region table (`cn/loc`) and the check digit;
- unified social credit code (统一社会信用代码, GB 32100) — python-stdnum's `cn.uscc`;
- mainland mobile and landline numbers — phonenumbers (Google's libphonenumber data);
- bank card numbers: 13 to 19 digits and, unless the field turns it off, the Luhn
  check digit — python-stdnum's `luhn`.

Each cleaner returns the stored form (ID and credit code upper-case, phones as E.164
"+8613812345678", card digits only) or raises `NumberInvalid` with a code that says
which rule failed. Nothing here puts the value into a message: the caller turns the
code into a bilingual text that names the rule only (RELIABILITY promise 9).

Why our own steps around the libraries: stdnum reads any Unicode digit (①, ٣) as a
digit and reports the first failed rule in its own order; a clerk needs "the birth
date is impossible" rather than "bad check digit" when a date was mistyped, so the
order here is length, characters, birth date, region, check digit.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

import phonenumbers
from stdnum import luhn, numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, ValidationError

# Full-width digits and letters an input method types; every other digit-like
# character (circled, superscript, Arabic-Indic) stays foreign and is refused.
_FULL_WIDTH = str.maketrans(
    "０１２３４５６７８９＋－　ｘＸ" + "".join(chr(0xFF21 + i) for i in range(26)),
    "0123456789+- xX" + "".join(chr(0x41 + i) for i in range(26)),
)
_SEPARATORS = re.compile(r"[ \t\-()./]")
_DIGITS = re.compile(r"[0-9]+")
_RESIDENT_ID = re.compile(r"[0-9]{17}[0-9X]")
_CREDIT_CODE = re.compile(r"[0-9A-Z]{18}")
_PHONE_CHARACTERS = re.compile(r"\+?[0-9]+")
_MOBILE_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)
_LANDLINE_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)
MIN_CARD_DIGITS = 13
MAX_CARD_DIGITS = 19
# Longer input is not a number of any of these kinds (and is not worth parsing).
MAX_INPUT = 40
MASK = "*"


class NumberInvalid(ValueError):
    """A number that breaks one rule of its standard; `code` names the rule."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _compact(value: str) -> str:
    if len(value) > MAX_INPUT:
        raise NumberInvalid("too_long_number")
    return _SEPARATORS.sub("", value.translate(_FULL_WIDTH).strip())


def clean_resident_id(value: str) -> str:
    """The 18-character resident ID, upper-case X; codes: resident_id_length,
    resident_id_format, resident_id_birth_date, resident_id_region, resident_id_check_digit."""
    text = _compact(value).upper()
    if len(text) != 18:
        raise NumberInvalid("resident_id_length")
    if not _RESIDENT_ID.fullmatch(text):
        raise NumberInvalid("resident_id_format")
    try:
        ric.get_birth_date(text)
    except ValidationError:
        raise NumberInvalid("resident_id_birth_date") from None
    if not region_known(text[:6]):
        raise NumberInvalid("resident_id_region")
    if text[-1] != ric.calc_check_digit(text):
        raise NumberInvalid("resident_id_check_digit")
    return text


@lru_cache(maxsize=8192)  # about 7,000 codes were ever assigned
def region_known(code: str) -> bool:
    """True for a county-level code China has ever assigned (stdnum's table, with the
    codes of abolished and renamed counties). Unlike `ric.get_birth_place` this does not
    ask the code to have existed in the birth year: a person born in 1970 who was first
    registered in Chengdu's Wuhou district (code 510107, created in 1990) holds a real
    ID with that code."""
    info: dict[str, str] = {}
    for _part, props in numdb.get("cn/loc").info(code):
        info.update(props)
    return bool(info.get("province")) and bool(info.get("county"))


def resident_birth_date(stored: str) -> date:
    """The birth date a valid resident ID holds (digits 7 to 14)."""
    return date(int(stored[6:10]), int(stored[10:12]), int(stored[12:14]))


def resident_sex(stored: str) -> str:
    """ "male" or "female": the 17th digit is odd for men, even for women (GB 11643)."""
    return "male" if int(stored[16]) % 2 else "female"


def clean_credit_code(value: str) -> str:
    """The 18-character unified social credit code; codes: credit_code_length,
    credit_code_format, credit_code_check_digit."""
    text = _compact(value).upper()
    if len(text) != 18:
        raise NumberInvalid("credit_code_length")
    if not _CREDIT_CODE.fullmatch(text):
        raise NumberInvalid("credit_code_format")
    try:
        return str(uscc.validate(text))
    except InvalidChecksum:
        raise NumberInvalid("credit_code_check_digit") from None
    except ValidationError:  # a letter the code's alphabet leaves out (I, O, S, V, Z)
        raise NumberInvalid("credit_code_format") from None


def clean_bank_card(value: str, *, check_digit: bool = True) -> str:
    """The card's digits; codes: bank_card_format, bank_card_length, bank_card_check_digit."""
    text = _compact(value)
    if not _DIGITS.fullmatch(text):
        raise NumberInvalid("bank_card_format")
    if not MIN_CARD_DIGITS <= len(text) <= MAX_CARD_DIGITS:
        raise NumberInvalid("bank_card_length")
    if check_digit and not luhn.is_valid(text):
        raise NumberInvalid("bank_card_check_digit")
    return text


def _national_phone(value: str) -> tuple[str, str]:
    """(digits without a +86/0086 prefix, how the prefix was written)."""
    text = _compact(value)
    if not _PHONE_CHARACTERS.fullmatch(text):
        return "", "bad"
    if text.startswith("+"):
        if not text.startswith("+86"):
            return text, "foreign"
        return text[3:], "+86"
    if text.startswith("0086"):
        return text[4:], "+86"
    return text, ""


def clean_mobile(value: str) -> str:
    """A mainland mobile number as E.164 (+8613812345678); codes: mobile_format,
    mobile_not_mainland, mobile_length, mobile_is_landline, mobile_number."""
    digits, prefix = _national_phone(value)
    if prefix == "bad":
        raise NumberInvalid("mobile_format")
    if prefix == "foreign":
        raise NumberInvalid("mobile_not_mainland")
    if not prefix and len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if digits.startswith("0") and _is_landline(digits):
        raise NumberInvalid("mobile_is_landline")
    if len(digits) != 11:
        raise NumberInvalid("mobile_length")
    number = phonenumbers.PhoneNumber(country_code=86, national_number=int(digits))
    kind = phonenumbers.number_type(number)
    if kind in _LANDLINE_TYPES - _MOBILE_TYPES:
        raise NumberInvalid("mobile_is_landline")
    if kind not in _MOBILE_TYPES or not phonenumbers.is_valid_number(number):
        raise NumberInvalid("mobile_number")
    return "+86" + digits


def _is_landline(digits: str) -> bool:
    try:
        number = phonenumbers.parse(digits, "CN")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and (
        phonenumbers.number_type(number) in _LANDLINE_TYPES - _MOBILE_TYPES
    )


def clean_landline(value: str) -> str:
    """A mainland fixed-line number with its area code as E.164 (+861012345678); codes:
    landline_format, landline_not_mainland, landline_is_mobile, landline_area_code,
    landline_number."""
    digits, prefix = _national_phone(value)
    if prefix == "bad":
        raise NumberInvalid("landline_format")
    if prefix == "foreign":
        raise NumberInvalid("landline_not_mainland")
    if len(digits) == 11 and digits.startswith("1"):
        raise NumberInvalid("landline_is_mobile")
    if prefix:
        candidate = "+86" + digits.removeprefix("0")
    elif digits.startswith("0"):
        candidate = digits
    else:
        raise NumberInvalid("landline_area_code")
    try:
        number = phonenumbers.parse(candidate, "CN")
    except phonenumbers.NumberParseException:
        raise NumberInvalid("landline_number") from None
    if not phonenumbers.is_valid_number(number) or (
        phonenumbers.number_type(number) not in _LANDLINE_TYPES
    ):
        raise NumberInvalid("landline_number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_display(stored: str) -> str:
    """A stored E.164 mainland number as people write it: "138 1234 5678", "010 1234 5678"."""
    try:
        number = phonenumbers.parse(stored, "CN")
    except phonenumbers.NumberParseException:
        return stored
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def card_display(stored: str) -> str:
    """Card digits in groups of four, as printed on the card."""
    return " ".join(stored[i : i + 4] for i in range(0, len(stored), 4))


def masked_resident_id(stored: str) -> str:
    """First 3 and last 4 characters (RELIABILITY promise 8): 110***********123X."""
    return _keep(stored, 3, 4)


def masked_mobile(stored: str) -> str:
    """First 3 and last 4 digits of the national number: 138****5678."""
    return _keep(stored.removeprefix("+86"), 3, 4)


def masked_bank_card(stored: str) -> str:
    """First 6 (the issuer) and last 4 digits: 622202*********0123."""
    return _keep(stored, 6, 4)


def _keep(text: str, head: int, tail: int) -> str:
    if len(text) <= head + tail:
        return MASK * len(text)
    return text[:head] + MASK * (len(text) - head - tail) + text[-tail:]
