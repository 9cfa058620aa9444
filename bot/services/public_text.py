"""Free text shown to the public (a published answer, a public feedback's description) with
the contact details people write into it masked: phone numbers, e-mail addresses and
12-digit citizen ID numbers become "***".

A resident who writes "gọi tôi số 0912 345 678" in public feedback, or a clerk who answers
"đã liên hệ ông Ba (0912…)", must not publish the number to everyone. Names cannot be told
apart from other words reliably, so they are not touched: the rule of what is public
(public_record.is_public) is the first protection, this is the second.
"""

from __future__ import annotations

import re

MASK = "***"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A Vietnamese phone number (0…, 84…, +84…; 10-11 digits) or a căn cước number (12 digits,
# starting with 0), with the spaces, dots and dashes people put in. Sums of money
# ("1.234.567.890 đồng") never start with 0 and tracking codes follow a dash: both stay.
_NUMBER = re.compile(r"(?<![\w+\-/.])(?:\(?(?:\+84|84|0)[\s.\-)]*[1-9](?:[\s.\-)]{0,2}\d){7,10}"
                     r"|0\d{11})(?!\w)")


def masked(text: str) -> str:
    """The text with phone numbers, e-mail addresses and ID numbers replaced by MASK."""
    return _NUMBER.sub(MASK, _EMAIL.sub(MASK, text))
