## TON and NOWPayments invoices

pay-ton-details =
    💎 Send exactly <b>{ $amount } TON</b> to
    <code>{ $address }</code>
    with the comment <code>{ $comment }</code>
    The comment tells us the payment is yours: a transfer without it cannot be matched. The button opens Tonkeeper with everything filled in; for another wallet, copy the address and the comment, or use this link:
    <code>{ $link }</code>
    We see the payment within a minute of it reaching the blockchain.
