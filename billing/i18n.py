"""Texts stored in both languages, picked by the active one."""

from django.utils.translation import get_language


def pick(zh: str, en: str) -> str:
    """The English text when the active language is English, else the Chinese one (the default)."""
    return en if (get_language() or "").startswith("en") else zh


class Bilingual:
    """Text in both languages that renders in the language active when it is turned into a string, for
    messages rendered later in several languages."""

    def __init__(self, zh: str, en: str):
        self.zh, self.en = zh, en

    def __str__(self) -> str:
        return pick(self.zh, self.en)
