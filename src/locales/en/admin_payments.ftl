## Admin: payments

admin-cmd-points_refund = Refund a Telegram Stars payment
admin-an-tab-payments = Payments
admin-pay-revenue = 💰 <b>Revenue</b> (credited payments, refunds excluded)
admin-pay-revenue-line = • { $provider }: <b>{ $total } { $currency }</b> ({ $count ->
        [one] { $count } payment
       *[other] { $count } payments
    })
admin-pay-subscribers = 👥 Active subscribers: { $subscribers }
admin-pay-refunds = ↩️ Refunds: { $count }
admin-pay-problems = ⚠️ <b>Needs attention</b> (latest)
admin-pay-problem-line = { $date } · { $provider } <code>{ $id }</code> · user { $user } · { $status } · { $amount } { $currency }{ $unrecovered ->
        [0] {""}
       *[other] {" "}· unrecovered { $unrecovered }
    }
admin-pay-status-credited = credited
admin-pay-status-mismatch = amount/currency mismatch
admin-pay-status-expired = offer expired
admin-pay-status-unknown_purchase = unknown purchase
admin-pay-status-refunded = refunded
admin-pay-user-title = 💳 <b>Payments</b> ({ $count }):
admin-pay-line = { $date } · { $provider } · { $tier } × { $months } · { $amount } { $currency } · { $status } · <code>{ $id }</code>
admin-pay-unrecovered = {" "}· unrecovered { $points } points
admin-refund-usage = Usage: <code>/points_refund &lt;telegram payment charge id&gt;</code>. The charge id is in the user card (/points_user).
admin-refund-unknown = No Telegram Stars payment with the charge id <code>{ $id }</code>.
admin-refund-not-credited = This payment is { $status }: there is nothing to refund here.
admin-refund-prompt =
    ↩️ <b>Refund this payment?</b>
    { $line }
    User { $user }: the time it bought ends and up to { $bonus } bonus points are taken back (never below zero).
admin-refund-confirm = ✅ Refund
admin-refund-cancel = ✖️ Cancel
admin-refund-cancelled = Refund cancelled: nothing changed.
admin-refund-gone = This payment cannot be refunded from here.
admin-refund-refused = Telegram refused the refund: { $reason }
admin-refund-done = ↩️ Refunded. Bonus points taken back: { $clawed }; unrecovered (the balance was short): { $unrecovered }.
