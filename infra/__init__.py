"""infra package: what runs in production (see the README's layout section).

Importing it arranges for aiogram's Bot API models to be built on first use
(``infra.telegram_models``): every service imports ``infra`` before aiogram.
"""

from infra.telegram_models import install as _install_telegram_models

_install_telegram_models()
