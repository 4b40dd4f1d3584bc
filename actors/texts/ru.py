"""Russian texts by key (same keys and placeholders as :mod:`actors.texts.en`)."""

from __future__ import annotations

from typing import Final

TEXTS: Final[dict[str, str]] = {
    # ------------------------------------------------------------------ command menu, /help
    "command.start": "Начать разговор с Claude",
    "command.help": "Что я умею",
    "command.new": "Начать новый разговор в этой ветке",
    "command.stop": "Остановить ответ, который пишется",
    "command.clear": "Удалить эту тему (вне темы: все темы чата)",
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
    "command.set_cache_subsidy": (
        "Показать или задать, платит ли бот за запись кэша пользователей (администраторы)"
    ),
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
    "gateway.model_unavailable": (
        "{model} недоступна в этом боте: ключ Google API не настроен. "
        "Выберите другую модель через /model."
    ),
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
    "view.cache_subsidy": "субсидию кэша",
    "view.chat_topics": "темы этого чата",
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
    # ------------------------------------------------------------------ thread: notices
    "thread.too_long": (
        "⚠️ Это сообщение слишком длинное, я не могу его прочитать. Сократите его или "
        "пришлите файлом."
    ),
    "thread.new_conversation": "🧹 Начат новый разговор.",
    "thread.fallback_title": "Новый разговор",
    "thread.settings_reset": "Настройки этой ветки сброшены к вашим настройкам по умолчанию.",
    "thread.settings_updated": "Настройки этой ветки обновлены.",
    "thread.unknown_model": "Неизвестная модель {model}.",
    "thread.unreadable": "⚠️ Извините, {detail}.",
    "thread.no_text": "в сообщении нет текста",
    "unreadable.too_large": "{label}: {size} МБ, а можно не больше 20 МБ",
    "unreadable.text_too_large": "текстовый файл {label} больше 1 МБ",
    "unreadable.sticker": "стикеры я не читаю",
    "unreadable.program": "программы я не принимаю ({label})",
    "thread.skipped": "Обратите внимание: {skipped}. На остальное я отвечу.",
    "thread.balance_refused": (
        "💳 Не могу ответить: {reason}. Пополните баланс через /pay, чтобы продолжить."
    ),
    "balance_refusal.none": "баланса пока нет: ваш счёт ещё создаётся, попробуйте ещё раз",
    "balance_refusal.unreadable": (
        "сейчас не получается прочитать ваш баланс; пожалуйста, напишите в поддержку"
    ),
    "balance_refusal.empty": "на вашем балансе ${balance}",
    "thread.insufficient_balance": (
        "💳 Баланс исчерпан. Пополните его через /pay, чтобы продолжить."
    ),
    "thread.concurrency": (
        "⏳ У вас уже генерируется ответов: {limit}. Дождитесь, пока один из них закончится, "
        "или остановите его через /stop."
    ),
    "thread.queued": (
        "⏳ У вас уже генерируется ответов: {limit}. Этот запрос ждёт в очереди и начнётся, "
        "как только один из них закончится (до {minutes} мин); /stop отменяет его."
    ),
    "thread.nothing_to_stop": "Сейчас ничего не генерируется.",
    "thread.interrupted": (
        "⚠️ Ответ прервался из-за перезапуска бота. Пожалуйста, отправьте сообщение ещё раз."
    ),
    # ------------------------------------------------------------------ thread: failed turns
    "thread.wait_minute": "Попробуйте ещё раз через минуту.",
    "thread.wait_seconds": "Попробуйте ещё раз через {seconds} с.",
    "error.rate_limited": "⚠️ Сейчас к Claude слишком много запросов. {wait}",
    "error.overloaded": "⚠️ Claude сейчас перегружен. Попробуйте ещё раз чуть позже.",
    "error.context_overflow": (
        "⚠️ Этот разговор больше не помещается в контекстное окно модели. "
        "Отправьте /new, чтобы начать новый разговор."
    ),
    "error.file_too_large": (
        "⚠️ Вложенный файл занимает около {tokens} токенов, а в контекстном окне модели "
        "есть место примерно для {room}. Пришлите файл поменьше или только нужную часть."
    ),
    "error.files_too_large": (
        "⚠️ Вложенные файлы ({count}) занимают около {tokens} токенов, а в контекстном окне "
        "модели есть место примерно для {room}. Пришлите файлы поменьше или только нужные "
        "части."
    ),
    "error.invalid_request": (
        "⚠️ Claude не смог принять этот запрос. Попробуйте переформулировать или начните "
        "заново через /new."
    ),
    "error.invalid_request_detail": (
        "⚠️ Claude не смог принять этот запрос: {detail} Попробуйте переформулировать или "
        "начните заново через /new."
    ),
    "error.timeout": "⚠️ Claude слишком долго отвечал. Попробуйте ещё раз.",
    "error.stream_broken": (
        "⚠️ Связь с Claude оборвалась во время ответа. Начало ответа — выше; попробуйте ещё раз."
    ),
    "error.telegram": "⚠️ Telegram не принял ответ. Попробуйте ещё раз.",
    "error.auth": "⚠️ Бот сейчас не может связаться с Claude (ошибка настройки).",
    "error.model_unavailable": (
        "⚠️ Модели Gemini в этом боте недоступны (не настроен ключ Google API). "
        "Выберите модель Claude через /model и отправьте сообщение ещё раз."
    ),
    "error.internal": "⚠️ У нас что-то пошло не так. Попробуйте ещё раз.",
    "error.api_error": "⚠️ Claude ответил ошибкой. Попробуйте ещё раз.",
    # ------------------------------------------------------------------ thread: progress
    "progress.thinking": "🧠 Размышляю…",
    "progress.thought": "🧠 подумал",
    "progress.transcribed": "🎤 расшифровал",
    "progress.heard": "🎤 Услышал{length}: «{text}»",
    "progress.silence": "(тишина)",
    "progress.earlier": "… ещё шагов раньше: {count}",
    "progress.failed": " (не удалось)",
    "progress.sources": "Источники:",
    "summary.web_search": "поискал в интернете",
    "summary.web_fetch": "прочитал страницу",
    "summary.extended_thinking": "всё обдумал",
    "summary.self_critique": "проверил ответ",
    "summary.analyze_image": "посмотрел изображение",
    "summary.analyze_pdf": "прочитал PDF",
    "summary.preview_file": "просмотрел файл",
    "summary.list_files": "перечислил файлы",
    "summary.estimate_cost": "оценил стоимость",
    "summary.execute_python": "запустил код",
    "summary.generate_image": "нарисовал изображение",
    "summary.transcribe_audio": "расшифровал аудио",
    "summary.render_latex": "сверстал LaTeX",
    "summary.deliver_file": "отправил файл",
    "status.using": "использую {name}",
    "status.web_search": "ищу в интернете «{query}»",
    "status.web_fetch": "читаю страницу {page}",
    "status.analyze_image": "смотрю изображение",
    "status.analyze_pdf": "читаю PDF",
    "status.analyze_pdf_pages": "читаю страницы {pages} PDF",
    "status.deliver_file": "отправляю файл",
    "status.estimate_cost": "оцениваю стоимость",
    "status.execute_python": "запускаю Python",
    "status.execute_python_installing": "запускаю Python, устанавливаю {packages}",
    "status.extended_thinking": "обдумываю",
    "status.extended_thinking_tail": "обдумываю: …{tail}",
    "status.generate_image": "рисую",
    "status.generate_image_prompt": "рисую: {prompt}",
    "status.edit_image": "редактирую изображение",
    "status.edit_image_prompt": "редактирую изображение: {prompt}",
    "status.list_files": "перечисляю файлы",
    "status.preview_file": "просматриваю файл",
    "status.render_latex": "верстаю LaTeX",
    "status.self_critique": "проверяю ответ",
    "status.reviewing": "проверяю: {status}",
    "status.reviewing_step": "проверяю ответ (шаг {step} из максимум {limit})",
    "status.transcribe_audio": "расшифровываю аудио",
    # ------------------------------------------------------------------ cache subsidy
    "billing.set_cache_subsidy_usage": "как пользоваться: /set_cache_subsidy on|off",
    "billing.cache_subsidy_on": ("Субсидия кэша включена: запись кэша промптов оплачивает бот."),
    "billing.cache_subsidy_off": (
        "Субсидия кэша выключена: запись кэша промптов оплачивают пользователи."
    ),
    "billing.cache_subsidy_set_on": (
        "Субсидия кэша включена: с этого момента запись кэша промптов пользователям не начисляется."
    ),
    "billing.cache_subsidy_set_off": (
        "Субсидия кэша выключена: с этого момента пользователи снова платят за запись кэша "
        "промптов."
    ),
    # ------------------------------------------------------------------ /clear
    "clear.yes": "Да, удалить",
    "clear.cancel": "Отмена",
    "clear.refused": "Удалять темы этого чата могут только его администраторы.",
    "clear.no_topics": "Здесь нет тем, которые я мог бы удалить. /new начинает новый разговор.",
    "clear.not_yours": "Ответить может только тот, кто спросил.",
    "clear.cancelled": "Отменено: ничего не удалено.",
    "clear.confirm_one": "Удалить эту тему со всем содержимым? Разговор здесь закончится.",
    "clear.confirm_all": (
        "Удалить все темы этого чата ({count}) со всем содержимым? Их разговоры закончатся."
    ),
    "clear.deleted": "Удалено тем: {count}.",
    "clear.not_deleted": "Тема {topic} не удалена: {why}",
    # ------------------------------------------------------------------ /announce, broadcasts
    "broadcast.usage": (
        "Как пользоваться: /announce <текст> (всем известным пользователям) или "
        "/announce to:ID,ID,... <текст> (перечисленным id пользователей); "
        "/announce stop останавливает ваши идущие рассылки."
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
    "broadcast.button_stop": "⏹ Остановить",
    "broadcast.stopped_report": (
        "Рассылка остановлена: получателей {total}, отправлено {sent}, не удалось {failed}, "
        "заблокировали бота {blocked}, не отправлено {not_sent}."
    ),
    "broadcast.stop_requested": "Останавливаю ваши рассылки; отчёт придёт сюда.",
    "broadcast.unknown_note": (
        " Из неудавшихся {unknown} отправлялись в момент остановки рассылки: возможно, они "
        "его получили; повторно не отправлялось."
    ),
    # ------------------------------------------------------------------ refusals of typed input
    "number.noun.number": "числом",
    "number.noun.usd_amount": "суммой в долларах",
    "number.what.amount": "сумма",
    "number.what.margin": "маржа",
    "number.what.transaction_id": "номер транзакции",
    "number.unit.stars": " звёзд",
    "number.example.margin": "0.1 или 10%",
    "number.example.admin_amount": "2.5 или -1",
    "number.too_long": "{what}: слишком длинно, чтобы быть {noun} (например, {example})",
    "number.not_finite": "{what}: нужно конечное число (например, {example})",
    "number.not_a_number": "{shown} не является {noun} (например, {example})",
    "number.out_of_range": "{what}: число вне допустимого диапазона (например, {example})",
    "number.too_many_places": "{what}: слишком много знаков после точки (например, {example})",
    "number.send_whole": "{problem}; отправьте целое число от {low} до {high}{unit}",
    "number.not_whole": "{what}: нужно целое число от {low} до {high}{unit}, без дробной части",
    "number.between": "{what}: нужно от {low} до {high}{unit}",
    "number.not_user_id": "{shown} — не числовой id пользователя Telegram",
    "number.not_username": "{shown} — не @имя пользователя Telegram",
    "number.token_chars": "{what} — одно слово из букв, цифр и знаков; {usage}",
    "policy.margin_not_finite": "маржа должна быть конечным числом",
    "policy.margin_negative": "маржа не может быть отрицательной",
    "policy.margin_too_high": (
        "k1 + k2 + k3 должно быть меньше 1 (k1={k1}, k2={k2}, значит k3 не больше {limit}): "
        "при 1 каждый платёж зачислял бы $0"
    ),
    "policy.margin_places": (
        "у маржи не больше {places} знаков после точки ({quantum} = {percent}%)"
    ),
    "policy.amount_not_finite": "сумма должна быть конечным числом",
    "policy.amount_zero": "сумма не может быть нулевой",
    "policy.amount_too_large": "сумма не может превышать {limit} USD ни в ту, ни в другую сторону",
    "policy.amount_places": "у суммы не больше {places} знаков после точки",
    "refusal_detail.unknown_payment": (
        "платежа {charge_id} от вас не было (вернуть платёж может только тот, кто его оплатил)"
    ),
    "refusal_detail.refund_window_expired": (
        "возврат возможен в течение {days} дней после платежа (оплачен {paid})"
    ),
    "refusal_detail.balance_too_low": (
        "доступный баланс ${balance} (с учётом ещё идущих запросов) уже не покрывает "
        "${credited}, зачисленные этим платежом"
    ),
}
