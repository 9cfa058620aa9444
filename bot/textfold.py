"""Vietnamese text folding for the bot's layers; it lives in storage, which indexes it."""

from storage.textfold import fold, nfc

__all__ = ["fold", "nfc"]
