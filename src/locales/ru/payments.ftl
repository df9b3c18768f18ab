## /subscribe и платежи

cmd-subscribe = Подписка: тарифы и оплата
cmd-paysupport = Помощь с оплатой
menu-subscribe = ⭐ Подписка
tx-refund_subscription = ↩️ Возврат подписки
months = { $count } { $count ->
        [one] месяц
        [few] месяца
       *[many] месяцев
    }
sub-current-free = Ваш тариф: <b>FREE</b>.
sub-current-paid = Ваш тариф: <b>{ $tier }</b> до <b>{ $until }</b>.
sub-stars-renews = 🔄 Продлевается ежемесячно за Telegram Stars.
sub-stars-canceled = ⏸ Автопродление выключено: тариф закончится в срок.
sub-intro =
    ⭐ <b>Подписка</b>
    { $current }

    Тариф умножает начисляемые поинты и даёт бонус за каждый купленный месяц:
    • BASIC: ×{ $basic_mult }, +{ $basic_bonus } поинтов в месяц
    • PREMIUM: ×{ $premium_mult }, +{ $premium_bonus } поинтов в месяц
    • VIP: ×{ $vip_mult }, +{ $vip_bonus } поинтов в месяц

    Выберите тариф:
sub-tier-button = { $tier } · от { $price } ⭐ в месяц
sub-period-title = ⭐ <b>{ $tier }</b>: на какой срок?
sub-period-button = { $months } · { $price } ⭐
sub-method-title = ⭐ <b>{ $tier }</b>, { $months }: как оплатить?
sub-method-stars = ⭐ Telegram Stars · { $price } ⭐
sub-method-stars-monthly = 🔄 Telegram Stars, ежемесячно · { $price } ⭐
sub-method-ton = 💎 TON · { $price } TON
sub-method-nowpayments = 🪙 Криптовалюта через NOWPayments · { $price } { $currency }
sub-cancel-renewal = ⏸ Выключить автопродление
sub-resume-renewal = ▶️ Включить автопродление
sub-renewal-off = Автопродление выключено. Тариф действует до своей даты.
sub-renewal-on = Автопродление снова включено.
sub-renewal-failed = Telegram не принял изменение. Попробуйте позже.
sub-downgrade = У вас { $current } до { $until }: тариф ниже можно купить после его окончания. Продлить { $current } или перейти выше можно в любой момент.
sub-plan-unavailable = Этот тариф недоступен. Откройте /subscribe заново.
sub-method-unavailable = Этот способ оплаты сейчас недоступен. Выберите другой.
sub-gateway-failed = Платёжный сервис не ответил. Попробуйте через минуту.
sub-invoice-title = Syntra { $tier } · { $months }
sub-invoice-description = Тариф { $tier } на { $months }: поинты быстрее и +{ $bonus } бонусных поинтов.
sub-invoice-label = { $tier } · { $months }
sub-pay-link = Оплатите { $price } { $currency } за { $tier } · { $months }. Предложение действует { $minutes } мин.
sub-pay-button = 💳 Оплатить
sub-subscription-link = 🔄 { $tier } за { $price } ⭐ в месяц, продлевается автоматически, пока вы не выключите это в /subscribe.

## Оплата и её итог

checkout-refused-unknown = Этот счёт больше не действует. Откройте /subscribe заново.
checkout-refused-user = Этот счёт выставлен другому пользователю.
checkout-refused-price = Цена этого счёта изменилась. Откройте /subscribe заново.
checkout-refused-expired = Срок предложения истёк. Откройте /subscribe заново.
checkout-refused-paid = Этот счёт уже оплачен.
pay-credited =
    ✅ Оплата получена, спасибо!
    Ваш тариф: <b>{ $tier }</b> до <b>{ $until }</b>.
    🎁 Бонус: +{ $bonus } поинтов.
pay-renewed =
    🔄 Подписка <b>{ $tier }</b> продлена до <b>{ $until }</b>.
    🎁 Бонус: +{ $bonus } поинтов.
pay-referrer = 🎉 Приглашённый вами друг совершил первую покупку: +{ $amount } поинтов!
pay-not-credited = ⚠️ Мы получили оплату, но она не совпадает с предложением (другая сумма или предложение уже истекло), поэтому не применена. Платёж записан: отправьте /paysupport, и мы во всём разберёмся.
pay-refunded =
    ↩️ Оплата возвращена. Оплаченное ею время закончилось; ваш тариф теперь: <b>{ $tier }</b>.
    Списано бонусных поинтов: { $clawed }.
pay-partial = ⚠️ Оплата тарифа { $tier } неполная ({ $status }). Тариф пока не применён: доплатите или отправьте /paysupport.
remind-soon = ⏳ Ваш тариф <b>{ $tier }</b> заканчивается <b>{ $until }</b>. Продлить можно в любой момент: /subscribe (подписка Stars продлевается сама).
remind-expired = ⌛ Ваш тариф <b>{ $tier }</b> закончился, сейчас у вас FREE. Вернуть его: /subscribe.
paysupport-text =
    💬 <b>Помощь с оплатой</b>
    Отправьте /paysupport, а после него вопрос и дату платежа, например:
    <code>/paysupport оплатил 250 звёзд 3 декабря, тариф не изменился</code>
    Сообщение получат администраторы и ответят вам в Telegram в течение 24 часов.{ $contact }
    Платежи в Telegram Stars, которые не были применены, возвращаются на ваш баланс Stars.
paysupport-contact = { " " }Также можно написать { $contact }.
paysupport-sent = ✅ Отправлено администраторам. Они ответят вам в Telegram.
paysupport-admin =
    💬 <b>Вопрос об оплате</b> от <a href="tg://user?id={ $user_id }">{ $user }</a> (id <code>{ $user_id }</code>):
    { $question }
