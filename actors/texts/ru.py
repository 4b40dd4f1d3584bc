"""Russian texts by key (same keys and placeholders as :mod:`actors.texts.en`)."""

from __future__ import annotations

from typing import Final

TEXTS: Final[dict[str, str]] = {
    # ------------------------------------------------------------------ command menu, /help
    "command.start": "Начать разговор с Claude",
    "command.help": "Что я умею",
    "command.new": "Начать новый разговор в этой ветке",
    "command.stop": "Остановить ответ, который пишется",
    "command.model": "Выбрать модель: Claude или Gemini",
    "command.thinking": "Насколько глубоко думает Claude: off, low, medium, high, max",
    "command.personality": "Задать, показать или сбросить свой системный промпт",
    "command.language": "Выбрать язык: русский или английский",
    "command.balance": "Баланс и последние операции",
    "command.pay": "Пополнить баланс звёздами Telegram",
    "command.refund": "Вернуть платёж звёздами (в течение 30 дней)",
    "command.paysupport": "Помощь с платежами",
    "command.topup": "Пополнить баланс пользователя (администраторы)",
    "command.set_margin": "Показать или задать наценку владельца k3 (администраторы)",
    "command.announce": (
        "Отправить сообщение всем пользователям или перечисленным id после предпросмотра "
        "(администраторы)"
    ),
    "help.title": "Команды:",
    "help.admin_title": "Команды администратора:",
    "help.footer": (
        "Если написать новое сообщение, пока я отвечаю, я прерву ответ и займусь новым. "
        "Я читаю текст, фото, документы (PDF, код, текст...), голосовые, аудио и видео; "
        "файлы до 20 МБ."
    ),
    # ------------------------------------------------------------------ gateway: /start
    "gateway.supported": "текст, фото, документы (PDF, код, текст...), голосовые, аудио и видео",
    "gateway.welcome": (
        "Привет! Я Claude, теперь в Telegram. Напишите мне, и ответ появится прямо у вас "
        "на глазах.\n\n"
        "Я читаю {supported}. Каждая тема форума — отдельный разговор."
    ),
    "gateway.welcome_back": "С возвращением, {first_name}!",
    "gateway.welcome_balance": "Баланс: ${balance}",
    "gateway.welcome_model": "Модель: {model}",
    "gateway.help_hint": "Все команды — в /help.",
    # ------------------------------------------------------------------ gateway: refused input
    "gateway.unsupported": "Извините, {name} я не читаю. Я понимаю {supported}.",
    "unsupported.sticker": "стикеры",
    "unsupported.location": "геопозиции",
    "unsupported.venue": "места на карте",
    "unsupported.contact": "контакты",
    "unsupported.poll": "опросы",
    "unsupported.dice": "кубики",
    "unsupported.game": "игры",
    "unsupported.story": "истории",
    "unsupported.paid_media": "платные медиа",
    "unsupported.checklist": "чек-листы",
    "unsupported.live_photo": "живые фото",
    "unsupported.invoice": "счета",
    "unsupported.giveaway": "розыгрыши",
    "unsupported.web_app_data": "данные веб-приложений",
    "unsupported.passport_data": "данные Telegram Passport",
    "unsupported.other": "такие сообщения",
    "gateway.file_too_large": (
        "{name}: {size_mb} МБ, а Telegram позволяет ботам скачивать файлы не больше "
        "{limit_mb} МБ, поэтому прочитать его я не могу. Пришлите файл поменьше "
        "(или разделите его на части)."
    ),
    "gateway.file_named": "Файл {file_name}",
    "file_kind.photo": "Фото",
    "file_kind.document": "Документ",
    "file_kind.audio": "Аудиофайл",
    "file_kind.voice": "Голосовое сообщение",
    "file_kind.video": "Видео",
    "file_kind.video_note": "Видеосообщение",
    "file_kind.animation": "Анимация",
    # ------------------------------------------------------------------ gateway: settings
    "gateway.model_prompt": "Выберите модель для ваших разговоров (Claude или Gemini):",
    "gateway.model_chosen": "Выбрана модель {model}. Она будет отвечать со следующего сообщения.",
    "gateway.unknown_model": "Такой модели нет; выберите модель через /model.",
    "gateway.thinking_prompt": (
        "Насколько глубоко Claude должен думать перед ответом? Чем больше размышлений, тем лучше "
        "ответы на сложные вопросы, но тем дольше и дороже (размышления оплачиваются как "
        "ответ):"
    ),
    "gateway.thinking_off": "Размышления выключены. Это действует со следующего сообщения.",
    "gateway.thinking_chosen": (
        "Уровень размышлений: {level}. Это действует со следующего сообщения."
    ),
    "gateway.unknown_thinking": (
        "Выберите один из уровней: off, low, medium, high, max (например, /thinking high)."
    ),
    "thinking.off": "Выкл.",
    "thinking.low": "Низкий",
    "thinking.medium": "Средний",
    "thinking.high": "Высокий",
    "thinking.max": "Максимум",
    "gateway.personality_set": "Личность сохранена. Она действует со следующего сообщения.",
    "gateway.personality_reset": "Личность сброшена к стандартной.",
    "gateway.personality_too_long": (
        "Эта личность длиной {length} символов, а можно не больше {limit}. "
        "Пожалуйста, сократите её."
    ),
    "gateway.personality_usage": ("Задать: /personality <текст>, сбросить: /personality reset."),
    "gateway.personality_default": "У вас стандартная личность. {usage}",
    "gateway.personality_show": "Ваша личность:\n\n{personality}\n\n{usage}",
    "gateway.personality_unknown": "Сейчас я не могу прочитать вашу личность. {usage}",
    "gateway.language_prompt": "Выберите язык, на котором мне с вами говорить:",
    "gateway.language_chosen": "Теперь я говорю с вами по-русски.",
    "gateway.unknown_language": "Выберите English или Русский через /language.",
    # ------------------------------------------------------------------ gateway: other replies
    "gateway.new_conversation": ("Начат новый разговор: прежние сообщения этой ветки я забыл."),
    "gateway.internal_error": (
        "Извините, у меня что-то пошло не так при обработке. Попробуйте ещё раз."
    ),
    "gateway.unavailable": "Сейчас не получается прочитать {what}. Попробуйте через минуту.",
    "view.balance": "ваш баланс",
    "view.settings": "ваши настройки",
    "view.margin": "текущую наценку",
    "view.price": "текущую цену",
    "view.user_directory": "список пользователей",
    "gateway.balance_sent_privately": "Я отправил ваш баланс вам в личные сообщения.",
    "gateway.balance_needs_private_chat": (
        "Баланс — личная информация, поэтому я показываю его только в личном чате: "
        "откройте чат со мной, нажмите «Старт» и отправьте там /balance."
    ),
    "gateway.payment_needs_support": (
        "Спасибо! Платёж получен и записан, но я не смог прочитать его счёт, поэтому на "
        "баланс он пока не зачислен. Напишите в /paysupport с этим номером транзакции, и "
        "администратор зачислит его: {charge_id}"
    ),
    # ------------------------------------------------------------------ model cards
    "model_card.title": "{label} от {maker}",
    "model_card.sizes": "Контекст: {context} токенов; ответ до {max_output} токенов.",
    "model_card.no_price": "Цена: в таблице цен её ещё нет.",
    "model_card.prices": "За миллион токенов: {parts} (размышления считаются как ответ).",
    "model_card.input": "ввод {price}",
    "model_card.output": "ответ {price}",
    "model_card.cache_write": "запись в кэш {price}",
    "model_card.cached_input": "ввод из кэша {price}",
    "model_card.can": "Умеет: {abilities}.",
    "model_card.thinking": "думать перед ответом (/thinking)",
    "model_card.tools": "пользоваться инструментами (файлы, оценка стоимости, рецензент)",
    "model_card.web": "искать и читать в интернете",
    "model_card.reads_images": "читать изображения",
    "model_card.reads_pdfs": "читать PDF",
    "model_card.reads_both": "читать изображения и PDF",
    # ------------------------------------------------------------------ billing: /balance
    "billing.no_balance": ("Баланса пока нет. Отправьте сообщение — и получите стартовые $1.00."),
    "billing.balance": "Баланс: ${balance}",
    "billing.paused": "Запросы приостановлены, пока вы не пополните баланс через /pay.",
    "billing.recent": "Последние операции:",
    "operation.usage_debited": "{source}: {subject}",
    "operation.usage": "расход",
    "operation.source.turn": "разговор",
    "operation.source.tool": "инструмент",
    "operation.source.cancelled_call": "остановленный ответ",
    "operation.payment_credited": "оплата звёздами: {subject}",
    "operation.refund_debited": "возврат звёзд: {subject}",
    "operation.refunded_payment_debited": "Telegram вернул платёж звёздами: {subject}",
    "operation.refund_reversed": "возврат не удался, сумма зачислена обратно",
    "operation.starter_credit_granted": "стартовый бонус",
    "operation.admin_topped_up": "корректировка администратором",
    "operation.operation_rejected": "отклонено ({subject})",
    "operation.other": "{subject}",
    # ------------------------------------------------------------------ billing: payments
    "billing.paysupport": (
        "Помощь с платежами\n\n"
        "• Пополнить баланс: /pay (звёзды Telegram). С баланса оплачиваются запросы к Claude "
        "и платные инструменты; /balance покажет его вместе с последними операциями и их "
        "номерами транзакций.\n"
        "• Возврат: /refund <номер транзакции> в течение {days} дней после платежа, если "
        "на балансе ещё есть сумма, зачисленная этим платежом.\n"
        "• По любому другому вопросу о платеже напишите сюда с номером транзакции — "
        "администратор ответит."
    ),
    "billing.pay_prompt": "Сколько звёзд Telegram купить?",
    "billing.package": "{stars} ⭐ → ${usd}",
    "billing.custom_button": "Другая сумма",
    "billing.custom_prompt": (
        "Сколько звёзд вы хотите купить (от {low} до {high})? Ответьте на это сообщение числом."
    ),
    "billing.custom_placeholder": "например, 150",
    "billing.amount_invalid": (
        "Такую сумму я принять не могу: отправьте целое число звёзд от {low} до {high}."
    ),
    "billing.custom_amount_invalid": "{problem} Ответьте на это сообщение другим числом.",
    "billing.stale_button": "Эта кнопка больше не действует; воспользуйтесь /pay.",
    "billing.invoice_title": "Пополнение на {stars} ⭐",
    "billing.invoice_description": "Добавит ${usd} на ваш баланс для запросов к Claude.",
    "billing.invoice_label": "{stars} ⭐",
    "billing.payment_received": (
        "Спасибо! Получено звёзд: {stars}; ${usd} зачисляется на ваш баланс.\n"
        "Номер транзакции (для /refund): {charge_id}"
    ),
    "billing.refund_usage": (
        "как пользоваться: /refund <номер транзакции> (номер показывает /balance)"
    ),
    "billing.refund_requested": (
        "Возврат по {charge_id} запрошен; ответ придёт сюда в ближайшее время."
    ),
    "billing.refund_refused": "В возврате по {charge_id} отказано: {why}.",
    "refusal.refund_window_expired": "платёж старше срока, в который возможен возврат",
    "refusal.balance_too_low": "на балансе уже нет суммы, зачисленной этим платежом",
    "refusal.unknown_payment": "платежа с таким номером транзакции от вас не было",
    "refusal.not_payer": "вернуть платёж может только тот, кто его оплатил",
    "refusal.already_refunded": "этот платёж уже возвращён",
    "billing.refund_done": ("Возвращено звёзд: {stars} по {charge_id}; на балансе {amount}."),
    "billing.refund_failed": (
        "Telegram не смог вернуть {charge_id} ({detail}); сумма зачислена обратно на ваш "
        "баланс. Если это повторится, напишите в /paysupport."
    ),
    # ------------------------------------------------------------------ billing: administrators
    "billing.not_admin": "Эта команда только для администраторов.",
    "billing.topup_usage": (
        "как пользоваться: /topup <user_id|@username> <сумма в USD> (отрицательная списывает)"
    ),
    "billing.set_margin_usage": (
        "как пользоваться: /set_margin <k3>, например /set_margin 0.1 или /set_margin 10%"
    ),
    "billing.refused": "Отклонено: {problem}.",
    "billing.unknown_user": "Пользователь {target} неизвестен.",
    "billing.current_margin": "Текущая наценка владельца k3 = {margin}.",
    "billing.margin_set": "Наценка владельца k3 = {margin}; 100 звёзд теперь дают ${usd}.",
    "billing.top_up_requested": (
        "Корректировка {amount} для пользователя {user_id} отправлена ({operation_id})."
    ),
    "precheckout.stale": "Этот счёт больше не действует. Воспользуйтесь /pay ещё раз.",
    "precheckout.not_yours": "Этот счёт выставлен другому человеку. Получите свой через /pay.",
    "precheckout.currency": "Оплата принимается только звёздами Telegram.",
    "precheckout.amount": "Сумма {paid} не совпадает со счётом ({stars} ⭐).",
    "precheckout.unpayable": "Этот счёт уже нельзя оплатить. Воспользуйтесь /pay ещё раз.",
    # ------------------------------------------------------------------ /announce, broadcasts
    "broadcast.usage": (
        "Как пользоваться: /announce <текст> (всем известным пользователям) или "
        "/announce to:ID,ID,... <текст> (перечисленным id пользователей)."
    ),
    "broadcast.refused": "Отклонено: {problem}.",
    "broadcast.too_many_ids": "Можно перечислить не больше {limit} id пользователей.",
    "broadcast.too_long": (
        "В тексте {length} символов; Telegram отправляет не больше {limit} в одном сообщении."
    ),
    "broadcast.preview_all": (
        "Предпросмотр объявления для всех известных пользователей: следующее сообщение — "
        "ровно то, что они увидят. Отправьте его или отмените."
    ),
    "broadcast.preview_listed": (
        "Предпросмотр объявления для перечисленных пользователей ({count}): следующее "
        "сообщение — ровно то, что они увидят. Отправьте его или отмените."
    ),
    "broadcast.button_send": "✅ Отправить",
    "broadcast.button_cancel": "✖️ Отменить",
    "broadcast.only_author": "Отправить или отменить объявление может только его автор.",
    "broadcast.queued": "Отправляю. Напишу здесь, как всё прошло.",
    "broadcast.cancelled": "Объявление отменено: ничего не отправлено.",
    "broadcast.unreadable_button": "Эта кнопка больше не действует.",
    "broadcast.started": "Рассылка началась: получателей {total}.",
    "broadcast.progress": (
        "Рассылка: готово {done} из {total} (отправлено {sent}, не удалось {failed}, "
        "заблокировали бота {blocked})."
    ),
    "broadcast.finished": (
        "Рассылка завершена: получателей {total}, отправлено {sent}, не удалось {failed}, "
        "заблокировали бота {blocked}."
    ),
    "broadcast.unknown_note": (
        " Из неудавшихся {unknown} отправлялись в момент остановки рассылки: возможно, они "
        "его получили; повторно не отправлялось."
    ),
}
