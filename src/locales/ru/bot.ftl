## Общее

points = { $count } { $count ->
        [one] поинт
        [few] поинта
       *[many] поинтов
    }
days = { $count } { $count ->
        [one] день
        [few] дня
       *[many] дней
    }
level-label = { $icon } { $name }
error-generic = ⚠️ У нас что-то пошло не так. Попробуйте ещё раз через минуту.
error-unavailable = ⚠️ Поинты временно недоступны. Ваш запрос не потерян: попробуйте ещё раз через минуту.
unknown-command = 🤔 Я не знаю такой команды. Отправьте /help, чтобы увидеть, что я умею.
button-back = « Назад

## Меню команд

cmd-start = Старт и ежедневный бонус
cmd-points = Ваши поинты, уровень и место
cmd-level = Все уровни
cmd-daily = Забрать ежедневный бонус
cmd-language = Сменить язык
cmd-help = Помощь

## /start

start-welcome-new =
    👋 Добро пожаловать в <b>Syntra</b>, { $name }!

    Я ваш ИИ-ассистент по криптовалютам: спрашивайте о монетах, рынках, DeFi и торговых идеях, просто напишите сообщение.

    💎 За каждый ответ, ежедневные визиты и приглашённых друзей вы получаете поинты. Поинты поднимают вас по шести уровням, а на высоких уровнях поинты начисляются быстрее.
start-welcome-back = 👋 С возвращением, { $name }!
start-referred = 🤝 Вы пришли по приглашению { $referrer }.
start-ref-unknown = ℹ️ Эта ссылка-приглашение недействительна, но мы всё равно вам очень рады.
start-ref-not-new = ℹ️ Ссылки-приглашения работают только для новых пользователей, поэтому эта не применена.
start-ref-self = ℹ️ Это ваша собственная ссылка-приглашение: поделитесь ею с друзьями.
referral-bonus = 🎉 { $name } присоединился к Syntra по вашей ссылке: вам +{ $amount } { $amount ->
        [one] поинт
        [few] поинта
       *[many] поинтов
    }!

## Кнопки меню

menu-points = 💎 Мои поинты
menu-daily = 🎁 Ежедневный бонус
menu-earn = 📊 Как заработать
menu-language = 🌐 Язык
menu-history = 📜 История
menu-top = 🏆 Рейтинг
menu-app = 📱 Открыть приложение

## Ежедневный бонус

daily-claimed = 🎁 Ежедневный бонус: <b>+{ $amount }</b> { $amount ->
        [one] поинт
        [few] поинта
       *[many] поинтов
    }
daily-streak-line = 🔥 Серия: <b>{ $streak } { $streak ->
        [one] день
        [few] дня
       *[many] дней
    }</b>
daily-bonus-line = 🌟 Включая бонус за серию: +{ $bonus }
daily-next-milestone = Следующий бонус за серию: +{ $bonus } на { $day }-й день.
daily-already = ✅ Сегодняшний бонус уже получен (серия: { $streak } { $streak ->
        [one] день
        [few] дня
       *[many] дней
    }). Следующий откроется через { $hours } ч { $minutes } мин.

## /points

points-title = 💎 <b>Ваши поинты</b>
points-balance = Баланс: <b>{ $balance }</b> { $balance ->
        [one] поинт
        [few] поинта
       *[many] поинтов
    }
points-level = Уровень: { $icon } <b>{ $name }</b> (уровень { $level }, ×{ $multiplier })
points-lifetime = 📈 Заработано за всё время: { $earned } (уровень считается по ним; траты его не снижают)
points-progress = { $bar } { $percent }%
points-to-next = До уровня { $icon } { $name }: { $missing } { $missing ->
        [one] поинт
        [few] поинта
       *[many] поинтов
    }
points-top-level = 👑 Вы достигли высшего уровня!
points-streak = 🔥 Серия: { $streak } { $streak ->
        [one] день
        [few] дня
       *[many] дней
    } (рекорд: { $longest })
points-rank = 🏆 Место: #{ $rank }
points-today = 📅 Сегодня за запросы: { $earned } / { $cap }
points-invite = 🔗 Приглашайте друзей: { $link }

## История

history-title = 📜 <b>История</b> (страница { $page } из { $pages })
history-empty = 📜 Движений поинтов пока нет. Задайте мне вопрос, чтобы заработать первые поинты!
history-line = { $date } · { $type }: <b>{ $amount }</b> → { $balance }

tx-earn_text_request = 💬 Ответ ИИ
tx-earn_vision_request = 🖼 Анализ изображения
tx-earn_chart_request = 📈 Анализ графика
tx-earn_daily_login = 🎁 Ежедневный бонус
tx-earn_referral_signup = 👥 Друг присоединился
tx-earn_referral_purchase = 👥 Первая покупка друга
tx-earn_subscription = ⭐ Подписка
tx-admin_grant = 🎁 Бонус от команды
tx-admin_deduct = ➖ Корректировка от команды
tx-spend = 🛒 Потрачено
tx-other = Другое

## Рейтинг

top-title = 🏆 <b>Рейтинг</b>
top-line = { $place } { $name } — { $balance } { $icon }
top-empty = Поинтов пока нет ни у кого: станьте первым!
top-me = Ваше место: <b>#{ $rank }</b>, { $balance } { $balance ->
        [one] поинт
        [few] поинта
       *[many] поинтов
    }

## Как заработать

earn-title = 📊 <b>Как заработать поинты</b>
earn-multipliers = Ваши множители: уровень ×{ $level_mult } · { $tier } ×{ $tier_mult }
earn-requests = <b>За каждый обработанный запрос</b> (ваша ставка):
earn-text = 💬 Вопрос ИИ: +{ $amount }
earn-vision = 🖼 Анализ изображения (пришлите фото или скриншот): +{ $amount }
earn-chart = 📈 Анализ графика: +{ $amount }
earn-daily = 🎁 Ежедневный бонус: +{ $amount } и бонусы за серию:
earn-streak-line = · { $day }-й день: +{ $bonus }
earn-referrals = 👥 Друг пришёл по вашей ссылке: +{ $signup }; его первая покупка: +{ $purchase }
earn-subscriptions = ⭐ Подписки, за месяц: BASIC +{ $basic } · PREMIUM +{ $premium } · VIP +{ $vip }
earn-limits = ⏱ Ограничения: оплачивается один вопрос раз в { $text } с, изображения и графики раз в { $vision } с; не больше { $cap } поинтов в день за запросы.

## /level

level-title = 🏅 <b>Уровни</b>
level-line = { $icon } <b>{ $name }</b>: от { $required }, ×{ $multiplier }
level-you = { $line }  ◀ вы здесь
level-missing = До уровня { $icon } { $name } осталось { $missing } { $missing ->
        [one] поинт
        [few] поинта
       *[many] поинтов
    }.
level-max = 👑 Вы на высшем уровне. Легенда!
level-up = 🎉 <b>Новый уровень!</b> Теперь вы { $icon } <b>{ $name }</b> (уровень { $level }): ваши запросы приносят ×{ $multiplier }.

## /language

language-choose = 🌐 Выберите язык:
language-set = ✅ Язык: русский

## /help

help-text =
    🤖 <b>Syntra</b> — ваш ИИ-ассистент по криптовалютам. Просто напишите вопрос.
    📷 Или пришлите картинку (график, торговый терминал, скриншот) с вопросом в подписи: я её разберу (+{ $vision } { $vision ->
        [one] поинт
        [few] поинта
       *[many] поинтов
    }).

    <b>Команды</b>
    /chart BTC [4h]: график монеты с индикаторами и разбором (+{ $chart } { $chart ->
        [one] поинт
        [few] поинта
       *[many] поинтов
    })
    /points: баланс, уровень, серия и место в рейтинге
    /subscribe: тарифы, оплата и ваша подписка
    /level: все уровни и что они дают
    /daily: забрать сегодняшний бонус
    /language: переключить русский и английский
    /help: это сообщение
    /paysupport: помощь с оплатой

    <b>Поинты</b>
    Каждый ответ и каждый график приносят поинты; на высоких уровнях и с подпиской — быстрее. Заходите каждый день, чтобы растить серию.

    🔗 Ваша ссылка-приглашение (+{ $signup } за каждого друга): { $link }

## ИИ-чат

ai-not-configured = 🤖 ИИ-ассистент ещё не подключён. Попробуйте позже.
ai-timeout = ⌛ ИИ-ассистент отвечает слишком долго. Попробуйте ещё раз чуть позже.
ai-failed = ⚠️ ИИ-ассистент сейчас не смог ответить. Попробуйте ещё раз чуть позже.
ai-only-text = Я понимаю текст и картинки: напишите вопрос сообщением или пришлите фото либо файл изображения (JPEG, PNG, WEBP) для анализа.

## Картинки

vision-default-question = Разбери этот график или скриншот: что на нём и что здесь важно для криптотрейдера?
vision-not-image = 📎 Я разбираю только картинки: пришлите фото или файл изображения (JPEG, PNG или WEBP). PDF, видео и другие файлы не поддерживаются.
vision-too-big = 📏 Картинка слишком большая: я принимаю файлы до { $limit } МБ. Пришлите файл поменьше или отправьте его как фото (Telegram сжимает фото).
vision-too-many-pixels = 📏 Картинка слишком велика, чтобы её открыть (слишком много пикселей). Пришлите поменьше или отправьте её как фото.
vision-unreadable = 🖼 Не получилось открыть изображение: файл повреждён или это не настоящий JPEG, PNG или WEBP. Попробуйте ещё раз или отправьте его как фото.
vision-download-failed = ⚠️ Не удалось получить картинку из Telegram. Пришлите её ещё раз чуть позже.

button-stale = Эта кнопка устарела. Откройте меню заново.

## Дневные лимиты (обслуженные запросы в день по тарифу)

quota-unit-earn_text_request = { $count } { $count ->
        [one] вопрос
        [few] вопроса
       *[many] вопросов
    }
quota-unit-earn_vision_request = { $count } { $count ->
        [one] изображение
        [few] изображения
       *[many] изображений
    }
quota-unit-earn_chart_request = { $count } { $count ->
        [one] график
        [few] графика
       *[many] графиков
    }
quota-unlimited-earn_text_request = вопросы без ограничений
quota-unlimited-earn_vision_request = изображения без ограничений
quota-unlimited-earn_chart_request = графики без ограничений
quota-used-up =
    ⏳ Дневной лимит тарифа { $tier } исчерпан: { $unit }.
    Лимит обновится в { $time } ({ $zone }), через { $hours } ч { $minutes } мин.
quota-not-included = ⏳ Это не входит в тариф { $tier }.
quota-more =
    📊 Сколько использовано сегодня: /points
    ⭐ Больше каждый день с тарифом: /subscribe
quota-item = { $used }/{ $unit }
quota-item-unlimited = { $unit } (без лимита)
points-quota = 📊 Сегодня: { $items }
points-quota-unlimited = 📊 Сегодня: { $items } (без дневных лимитов)
ai-busy = ⏳ Ещё отвечаю на ваш предыдущий вопрос: дождитесь ответа и спросите снова.
button-not-yours = Эта кнопка принадлежит тому, кому она показана. Отправьте команду сами, чтобы получить свою.
anonymous-sender = 🙈 Я помогаю только людям с их собственным аккаунтом: отправьте это от своего имени, а не от имени группы или канала.
