## /subscribe and payments

cmd-subscribe = Subscription: plans and payment
cmd-paysupport = Help with payments
menu-subscribe = ⭐ Subscription
tx-refund_subscription = ↩️ Subscription refunded
months = { $count } { $count ->
        [one] month
       *[other] months
    }
sub-current-free = Your plan: <b>FREE</b>.
sub-current-paid = Your plan: <b>{ $tier }</b> until <b>{ $until }</b>.
sub-stars-renews = 🔄 Renews monthly with Telegram Stars.
sub-stars-canceled = ⏸ Monthly renewal is off: the plan ends on its date.
sub-intro =
    ⭐ <b>Subscription</b>
    { $current }

    A plan multiplies the points you earn and pays a bonus for every month bought:
    • BASIC: ×{ $basic_mult }, +{ $basic_bonus } points a month
    • PREMIUM: ×{ $premium_mult }, +{ $premium_bonus } points a month
    • VIP: ×{ $vip_mult }, +{ $vip_bonus } points a month

    Choose a plan:
sub-tier-button = { $tier } · from { $price } ⭐ a month
sub-period-title = ⭐ <b>{ $tier }</b>: for how long?
sub-period-button = { $months } · { $price } ⭐
sub-method-title = ⭐ <b>{ $tier }</b>, { $months }: how would you like to pay?
sub-method-stars = ⭐ Telegram Stars · { $price } ⭐
sub-method-stars-monthly = 🔄 Telegram Stars, renews monthly · { $price } ⭐
sub-method-ton = 💎 TON · { $price } TON
sub-method-nowpayments = 🪙 Crypto via NOWPayments · { $price } { $currency }
sub-cancel-renewal = ⏸ Turn off monthly renewal
sub-resume-renewal = ▶️ Turn monthly renewal back on
sub-renewal-off = Monthly renewal is off. Your plan stays until its date.
sub-renewal-on = Monthly renewal is on again.
sub-renewal-failed = Telegram did not accept the change. Please try again later.
sub-downgrade = You have { $current } until { $until }: a lower plan can be bought after it ends. Extending { $current } or moving up works at any time.
sub-plan-unavailable = This plan is not available. Please open /subscribe again.
sub-method-unavailable = This payment method is not available right now. Please choose another one.
sub-gateway-failed = The payment service did not answer. Please try again in a minute.
sub-invoice-title = Syntra { $tier } · { $months }
sub-invoice-description = { $tier } plan for { $months }: faster points and +{ $bonus } bonus points.
sub-invoice-label = { $tier } · { $months }
sub-pay-link = Pay { $price } { $currency } for { $tier } · { $months }. The offer is valid for { $minutes } minutes.
sub-pay-button = 💳 Pay
sub-subscription-link = 🔄 { $tier } for { $price } ⭐ a month, renewed automatically until you turn it off in /subscribe.

## Checkout and results

checkout-refused-unknown = This invoice is not valid anymore. Please open /subscribe again.
checkout-refused-user = This invoice was made for another user.
checkout-refused-price = The price of this invoice has changed. Please open /subscribe again.
checkout-refused-expired = This offer has expired. Please open /subscribe again.
checkout-refused-paid = This invoice has already been paid.
pay-credited =
    ✅ Payment received, thank you!
    Your plan: <b>{ $tier }</b> until <b>{ $until }</b>.
    🎁 Bonus: +{ $bonus } points.
pay-renewed =
    🔄 Your <b>{ $tier }</b> subscription was renewed until <b>{ $until }</b>.
    🎁 Bonus: +{ $bonus } points.
pay-referrer = 🎉 A friend you invited made their first purchase: +{ $amount } points!
pay-not-credited = ⚠️ We received your payment, but it does not match the offer (it was made for another price, or after the offer had expired), so it was not applied. It is recorded: send /paysupport and we will sort it out.
pay-refunded =
    ↩️ Your payment was refunded. The time it bought has ended; your plan now: <b>{ $tier }</b>.
    Bonus points taken back: { $clawed }.
pay-partial = ⚠️ Your payment for { $tier } is incomplete ({ $status }). Nothing was charged for the plan yet: pay the rest, or send /paysupport.
remind-soon = ⏳ Your <b>{ $tier }</b> plan ends on <b>{ $until }</b>. Extend it any time with /subscribe (a Stars subscription renews by itself).
remind-expired = ⌛ Your <b>{ $tier }</b> plan has ended; you are on FREE now. /subscribe brings it back.
paysupport-text =
    💬 <b>Help with payments</b>
    Send /paysupport followed by your question and the date of the payment, for example:
    <code>/paysupport paid 250 stars on 3 Dec, the plan did not change</code>
    It goes to the administrators, who write back to you in Telegram within 24 hours.{ $contact }
    Payments in Telegram Stars that were not applied are refunded to your Stars balance.
paysupport-contact = { " " }You can also write to { $contact }.
paysupport-sent = ✅ Sent to the administrators. They will write back to you in Telegram.
paysupport-admin =
    💬 <b>Payment question</b> from <a href="tg://user?id={ $user_id }">{ $user }</a> (id <code>{ $user_id }</code>):
    { $question }
