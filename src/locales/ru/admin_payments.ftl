## Админ: платежи

admin-cmd-points_refund = Вернуть платёж в Telegram Stars
admin-an-tab-payments = Платежи
admin-pay-revenue = 💰 <b>Выручка</b> (зачтённые платежи, без возвратов)
admin-pay-revenue-line = • { $provider }: <b>{ $total } { $currency }</b> ({ $count ->
        [one] { $count } платёж
        [few] { $count } платежа
       *[many] { $count } платежей
    })
admin-pay-subscribers = 👥 Активные подписчики: { $subscribers }
admin-pay-refunds = ↩️ Возвраты: { $count }
admin-pay-problems = ⚠️ <b>Требуют внимания</b> (последние)
admin-pay-problem-line = { $date } · { $provider } <code>{ $id }</code> · пользователь { $user } · { $status } · { $amount } { $currency }{ $unrecovered ->
        [0] {""}
       *[other] {" "}· не возвращено { $unrecovered }
    }
admin-pay-status-credited = зачтён
admin-pay-status-mismatch = сумма/валюта не совпали
admin-pay-status-expired = предложение истекло
admin-pay-status-unknown_purchase = неизвестная покупка
admin-pay-status-refunded = возвращён
admin-pay-user-title = 💳 <b>Платежи</b> ({ $count }):
admin-pay-line = { $date } · { $provider } · { $tier } × { $months } · { $amount } { $currency } · { $status } · <code>{ $id }</code>
admin-pay-unrecovered = {" "}· не возвращено { $points } поинтов
admin-refund-usage = Использование: <code>/points_refund &lt;id платежа Telegram&gt;</code>. Id платежа есть в карточке пользователя (/points_user).
admin-refund-unknown = Нет платежа в Telegram Stars с id <code>{ $id }</code>.
admin-refund-not-credited = Этот платёж: { $status }. Возвращать здесь нечего.
admin-refund-prompt =
    ↩️ <b>Вернуть этот платёж?</b>
    { $line }
    Пользователь { $user }: оплаченное время закончится, будет списано до { $bonus } бонусных поинтов (не ниже нуля).
admin-refund-confirm = ✅ Вернуть
admin-refund-cancel = ✖️ Отмена
admin-refund-cancelled = Возврат отменён: ничего не изменилось.
admin-refund-gone = Этот платёж нельзя вернуть отсюда.
admin-refund-refused = Telegram отказал в возврате: { $reason }
admin-refund-done = ↩️ Возвращено. Списано бонусных поинтов: { $clawed }; не возвращено (не хватило баланса): { $unrecovered }.
