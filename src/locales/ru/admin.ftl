## Панель администратора (src/bot/handlers/points_admin.py). Все id начинаются с admin-.

admin-only = ⛔ Эта кнопка только для администраторов.
admin-stale = Эта кнопка панели устарела. Отправьте /admin, чтобы открыть панель заново.
admin-button-menu = « Меню администратора
admin-button-refresh = ↻ Обновить
admin-button-confirm = ✅ Подтвердить
admin-button-cancel = ❌ Отменить
admin-button-user-card = 👤 Карточка пользователя

## Меню команд (видят только администраторы)

admin-cmd-admin = Панель администратора
admin-cmd-points_analytics = Аналитика поинтов
admin-cmd-points_config = Действующие правила поинтов
admin-cmd-points_grant = Начислить поинты пользователю
admin-cmd-points_deduct = Списать поинты у пользователя
admin-cmd-points_user = Карточка пользователя

## /admin

admin-menu =
    🛠 <b>Панель администратора</b>

    📊 Аналитика: итоги, последние 24 часа, типы, уровни, серии, топ-5 и график за 30 дней.
    ⚙️ Правила: действующие правила поинтов.
    🎁 Начислить, ➖ Списать, 👤 Пользователь: поинты одного пользователя.

    Команды: /points_analytics, /points_config, /points_grant, /points_deduct, /points_user
admin-menu-analytics = 📊 Аналитика
admin-menu-chart = 📈 График за 30 дней
admin-menu-config = ⚙️ Правила
admin-menu-grant = 🎁 Начислить
admin-menu-deduct = ➖ Списать
admin-menu-user = 👤 Пользователь

## Как пользоваться

admin-usage-line-grant = Формат: <code>/points_grant &lt;пользователь&gt; &lt;сумма&gt; [описание]</code>
admin-usage-line-deduct = Формат: <code>/points_deduct &lt;пользователь&gt; &lt;сумма&gt; [описание]</code>
admin-usage-line-user = Формат: <code>/points_user &lt;пользователь&gt;</code>
admin-usage-grant =
    🎁 <b>Начислить поинты</b>
    <code>/points_grant &lt;пользователь&gt; &lt;сумма&gt; [описание]</code>

    &lt;пользователь&gt;: числовой Telegram id или @username; описание необязательно, его увидит пользователь.
    От { $threshold } поинтов действие подтверждается кнопкой; максимум { $maximum } за операцию.

    Пример: <code>/points_grant @alice 500 Победитель конкурса</code>
admin-usage-deduct =
    ➖ <b>Списать поинты</b>
    <code>/points_deduct &lt;пользователь&gt; &lt;сумма&gt; [описание]</code>

    &lt;пользователь&gt;: числовой Telegram id или @username. Списание никогда не уводит баланс ниже нуля.
    От { $threshold } поинтов действие подтверждается кнопкой; максимум { $maximum } за операцию.

    Пример: <code>/points_deduct 123456789 200 Повторный реферал</code>
admin-usage-user =
    👤 <b>Карточка пользователя</b>
    <code>/points_user &lt;пользователь&gt;</code>

    Баланс, уровень, тариф, серии, рефералы, место в рейтинге и последние транзакции, с кнопками быстрого начисления и списания.

    Пример: <code>/points_user @alice</code>

## Ошибки ввода

admin-error-missing-args = ⚠️ Не хватает аргументов: укажите пользователя и сумму.
admin-error-missing-user = ⚠️ Укажите пользователя: числовой Telegram id или @username.
admin-error-user-format = ⚠️ «{ $user }» не похоже на пользователя: укажите числовой Telegram id или @username.
admin-error-not-integer = ⚠️ «{ $value }» не целое число поинтов.
admin-error-not-positive = ⚠️ Сумма должна быть больше нуля, а не { $value }.
admin-error-too-large = ⚠️ { $value } больше лимита в { $maximum } поинтов за операцию.
admin-error-description-too-long = ⚠️ В описании { $length } { $length ->
        [one] символ
        [few] символа
       *[many] символов
    }; предел { $limit }.
admin-error-unknown-user = ⚠️ Пользователь { $user } не найден: сначала он должен запустить бота.
admin-error-insufficient = ⚠️ У пользователя { $user } только { $balance } { $balance ->
        [one] поинт
        [few] поинта
       *[many] поинтов
    }: списать { $amount } нельзя. Ничего не изменено.

## Начисление и списание

admin-description-line = 📝 Описание: { $description }
admin-confirm-grant =
    ❓ <b>Подтвердите начисление</b>
    { $user } (id <code>{ $id }</code>) получит <b>+{ $amount }</b> { $amount ->
        [one] поинт
        [few] поинта
       *[many] поинтов
    }.
admin-confirm-deduct =
    ❓ <b>Подтвердите списание</b>
    У пользователя { $user } (id <code>{ $id }</code>) будет списано <b>{ $amount }</b> { $amount ->
        [one] поинт
        [few] поинта
       *[many] поинтов
    }.
admin-done-grant = ✅ Начислено <b>+{ $amount }</b> { $amount ->
        [one] поинт
        [few] поинта
       *[many] поинтов
    } пользователю { $user } (id <code>{ $id }</code>). Новый баланс: <b>{ $balance }</b>.
admin-done-deduct = ✅ Списано <b>{ $amount }</b> { $amount ->
        [one] поинт
        [few] поинта
       *[many] поинтов
    } у пользователя { $user } (id <code>{ $id }</code>). Новый баланс: <b>{ $balance }</b>.
admin-done-replayed = ↩️ Эта команда уже была выполнена: повторно ничего не начислено и не списано.
admin-notified = 📨 Пользователь уведомлён ({ $language }).
admin-language-ru = по-русски
admin-language-en = по-английски
admin-not-notified = 📭 Уведомить пользователя не удалось (возможно, он заблокировал бота).
admin-refused = ⛔ Не выполнено: у пользователя { $user } теперь только { $balance } { $balance ->
        [one] поинт
        [few] поинта
       *[many] поинтов
    }, меньше чем { $amount }. Ничего не изменено.
admin-cancelled-grant = ❌ <b>Отменено</b>: начисление { $amount } { $amount ->
        [one] поинта
        [few] поинтов
       *[many] поинтов
    } пользователю { $user } (id <code>{ $id }</code>). Ничего не изменено.
admin-cancelled-deduct = ❌ <b>Отменено</b>: списание { $amount } { $amount ->
        [one] поинта
        [few] поинтов
       *[many] поинтов
    } у пользователя { $user } (id <code>{ $id }</code>). Ничего не изменено.
admin-expired = ⌛ Срок подтверждения истёк (24 часа): ничего не изменено. Выполните команду заново.
admin-alert-done = ✅ Выполнено
admin-alert-refused = ⛔ Отказано: не хватает поинтов
admin-alert-cancelled = ❌ Отменено
admin-already-done = Это действие уже выполнено: повторно ничего не изменено.
admin-already-refused = В этом действии уже отказано: не хватало поинтов.
admin-already-cancelled = Это действие уже отменено.
admin-action-not-found = Такого подтверждения больше нет. Выполните команду заново.
admin-action-not-yours = Это подтверждение принадлежит другому администратору.

## Что получает пользователь (на его языке)

admin-notify-grant = 🎁 Команда Syntra начислила вам <b>+{ $amount }</b> { $amount ->
        [one] поинт
        [few] поинта
       *[many] поинтов
    }. Ваш баланс: <b>{ $balance }</b>.
admin-notify-deduct = ➖ Команда Syntra списала с вашего баланса <b>{ $amount }</b> { $amount ->
        [one] поинт
        [few] поинта
       *[many] поинтов
    }. Ваш баланс: <b>{ $balance }</b>.
admin-notify-reason = 📝 Причина: { $description }

## /points_user

admin-user-title = 👤 <b>{ $name }</b> · id <code>{ $id }</code>
admin-user-is-admin = 🛡 Администратор
admin-user-meta = 🌐 { $language } · с нами с { $created } · был(а) { $seen }
admin-user-balance = 💎 Баланс: <b>{ $balance }</b> { $balance ->
        [one] поинт
        [few] поинта
       *[many] поинтов
    }
admin-user-lifetime = 📈 Заработано за всё время: { $earned } · 📉 потрачено: { $spent }
admin-user-level = { $icon } Уровень { $level }, <b>{ $name }</b> · уровень ×{ $level_mult } · { $tier } ×{ $tier_mult }
admin-user-tier-free = 🎫 Тариф: FREE
admin-user-tier-active = 🎫 Тариф: { $tier } до { $expires }
admin-user-tier-expired = 🎫 Тариф: FREE ({ $tier } истёк { $expires })
admin-user-streak = 🔥 Серия: { $streak } { $streak ->
        [one] день
        [few] дня
       *[many] дней
    } (лучшая: { $longest })
admin-user-referrals = 👥 Приглашено пользователей: { $count }
admin-user-rank = 🏆 Место: #{ $rank } · { $transactions } { $transactions ->
        [one] транзакция
        [few] транзакции
       *[many] транзакций
    }
admin-user-history = 📜 <b>Последние транзакции</b> (страница { $page } из { $pages })
admin-user-history-empty = 📜 Транзакций пока нет.
admin-user-history-line = { $date } · { $type }: <b>{ $amount }</b> → { $balance }
admin-user-history-by = админ { $admin }

## /points_config

admin-config-title = ⚙️ <b>Действующие правила поинтов</b>: { $section }
admin-config-tab-rates = 💰 Ставки
admin-config-tab-tiers = 🎫 Тарифы
admin-config-tab-streaks = 🔥 Серии
admin-config-tab-limits = 🛡 Лимиты
admin-config-tab-levels = 🏅 Уровни
admin-config-request = { $label }: <b>{ $points }</b> база, × уровень × тариф
admin-config-daily = 🎁 Ежедневный вход: <b>{ $points }</b> + бонус за серию
admin-config-referral-signup = 👥 Приглашённый зарегистрировался: <b>{ $points }</b> пригласившему
admin-config-referral-purchase = 👥 Первая покупка приглашённого: <b>{ $points }</b> пригласившему
admin-config-subscription = ⭐ Подписка { $tier }, за месяц: <b>{ $points }</b>
admin-config-tiers-note = Поинты за запросы умножаются на действующий тариф:
admin-config-tier = { $tier }: ×{ $multiplier }
admin-config-quotas-note = Дневные лимиты обслуженных запросов (сброс в полночь по часовому поясу бота):
admin-config-quota = { $tier }: { $items }
admin-config-quota-unlimited = { $tier }: без ограничений
admin-config-streaks-note = Начисляется в день, когда серия достигает ровно этой длины:
admin-config-streak = День { $day }: <b>+{ $bonus }</b>
admin-config-interval = { $label }: один оплачиваемый запрос раз в { $seconds } с
admin-config-daily-cap = 📅 Дневной лимит поинтов за запросы: <b>{ $cap }</b> на пользователя
admin-config-admin-limits = 🛠 Начисление или списание администратором: не больше <b>{ $maximum }</b> за операцию, подтверждение от <b>{ $threshold }</b>
admin-config-description-limit = 📝 Описания: до { $limit } символов
admin-config-level = { $icon } { $level }. <b>{ $name }</b>: от { $required }, ×{ $multiplier }
admin-config-override = 📄 Действует файл переопределения: <code>{ $path }</code>
admin-config-defaults = 📄 Встроенные значения: файла переопределения нет (POINTS_CONFIG_FILE не задан).

## /points_analytics

admin-an-title = 📊 <b>Аналитика поинтов</b>: { $section }
admin-an-tab-overview = Итоги
admin-an-tab-day = 24 часа
admin-an-tab-types = По типам
admin-an-tab-levels = Уровни
admin-an-tab-streaks = Серии
admin-an-tab-top = Топ-5
admin-an-updated = 🕒 Обновлено { $time }
admin-an-refreshed = ↻ Обновлено
admin-an-empty = Данных пока нет.
admin-an-users = 👥 Пользователей: <b>{ $count }</b>, с балансом: <b>{ $with_balance }</b>
admin-an-circulation = 💎 Поинтов в обращении: <b>{ $points }</b>
admin-an-earned = 📈 Заработано за всё время: <b>{ $points }</b>
admin-an-spent = 📉 Потрачено за всё время: <b>{ $points }</b>
admin-an-day-earned = 📈 Заработано: <b>{ $points }</b>
admin-an-day-spent = 📉 Потрачено: <b>{ $points }</b>
admin-an-day-transactions = 🔁 Транзакций: <b>{ $count }</b>
admin-an-day-active = 🙋 Активных пользователей: <b>{ $count }</b>
admin-an-day-new = 🆕 Новых пользователей: <b>{ $count }</b>
admin-an-type = { $type }: { $count } { $count ->
        [one] транзакция
        [few] транзакции
       *[many] транзакций
    }, <b>{ $total }</b>
admin-an-level = { $icon } { $name }: <b>{ $users }</b> ({ $share }%)
admin-an-streak-active = 🔥 Активных серий: <b>{ $count }</b>
admin-an-streak-average = ➗ Средняя активная серия: <b>{ $days }</b> дн.
admin-an-streak-longest = 🏆 Самая длинная серия: <b>{ $days } { $days ->
        [one] день
        [few] дня
       *[many] дней
    }</b>
admin-an-streak-bands = Пользователи по длине серии:
admin-an-streak-band = · { $band } дн.: { $users }
admin-an-top = { $place } { $name } (<code>{ $id }</code>): <b>{ $balance }</b> { $icon }
admin-chart-title = Поинты по дням, последние { $days } дн.
admin-chart-earned = Заработано
admin-chart-spent = Потрачено
admin-chart-caption = 📈 Заработанные и потраченные поинты по дням за последние { $days } дн. ({ $timezone }). Всего заработано: { $earned }, потрачено: { $spent }.
