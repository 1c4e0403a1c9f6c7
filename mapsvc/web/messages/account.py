"""Words of the account pages and scripts, by message id, in Dutch, French and English."""

MESSAGES: dict[str, dict[str, str]] = {"nl": {}, "fr": {}, "en": {}}
