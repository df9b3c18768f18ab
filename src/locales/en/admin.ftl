## Admin panel (src/bot/handlers/points_admin.py). Every id starts with admin-.

admin-only = ⛔ This button is for admins only.
admin-stale = This admin button is out of date. Send /admin to open the panel again.
admin-button-menu = « Admin menu
admin-button-refresh = ↻ Refresh
admin-button-confirm = ✅ Confirm
admin-button-cancel = ❌ Cancel
admin-button-user-card = 👤 User card

## Commands menu (shown to admins only)

admin-cmd-admin = Admin panel
admin-cmd-points_analytics = Points analytics
admin-cmd-points_config = Points rules in force
admin-cmd-points_grant = Grant points to a user
admin-cmd-points_deduct = Deduct points from a user
admin-cmd-points_user = A user's points card

## /admin

admin-menu =
    🛠 <b>Admin panel</b>

    📊 Analytics: totals, the last 24 hours, types, levels, streaks, top 5 and a 30-day chart.
    ⚙️ Rules: the points rules in force.
    🎁 Grant, ➖ Deduct, 👤 User: points of one user.

    Commands: /points_analytics, /points_config, /points_grant, /points_deduct, /points_user
admin-menu-analytics = 📊 Analytics
admin-menu-chart = 📈 30-day chart
admin-menu-config = ⚙️ Rules
admin-menu-grant = 🎁 Grant
admin-menu-deduct = ➖ Deduct
admin-menu-user = 👤 User

## Usage

admin-usage-line-grant = Usage: <code>/points_grant &lt;user&gt; &lt;amount&gt; [description]</code>
admin-usage-line-deduct = Usage: <code>/points_deduct &lt;user&gt; &lt;amount&gt; [description]</code>
admin-usage-line-user = Usage: <code>/points_user &lt;user&gt;</code>
admin-usage-grant =
    🎁 <b>Grant points</b>
    <code>/points_grant &lt;user&gt; &lt;amount&gt; [description]</code>

    &lt;user&gt; is a numeric Telegram id or @username; the description is optional and shown to the user.
    From { $threshold } points you confirm with a button; at most { $maximum } per operation.

    Example: <code>/points_grant @alice 500 Contest winner</code>
admin-usage-deduct =
    ➖ <b>Deduct points</b>
    <code>/points_deduct &lt;user&gt; &lt;amount&gt; [description]</code>

    &lt;user&gt; is a numeric Telegram id or @username. A deduct never takes a balance below zero.
    From { $threshold } points you confirm with a button; at most { $maximum } per operation.

    Example: <code>/points_deduct 123456789 200 Duplicate referral</code>
admin-usage-user =
    👤 <b>User card</b>
    <code>/points_user &lt;user&gt;</code>

    Balance, level, tier, streaks, referrals, rank and the latest transactions, with quick grant and deduct buttons.

    Example: <code>/points_user @alice</code>

## Input errors

admin-error-missing-args = ⚠️ Not enough arguments: give the user and the amount.
admin-error-missing-user = ⚠️ Say which user: a numeric Telegram id or @username.
admin-error-user-format = ⚠️ “{ $user }” is not a user: give a numeric Telegram id or @username.
admin-error-not-integer = ⚠️ “{ $value }” is not a whole number of points.
admin-error-not-positive = ⚠️ The amount must be greater than zero, not { $value }.
admin-error-too-large = ⚠️ { $value } is above the limit of { $maximum } points per operation.
admin-error-description-too-long = ⚠️ The description has { $length } characters; the limit is { $limit }.
admin-error-unknown-user = ⚠️ User { $user } not found: they have to start the bot first.
admin-error-insufficient = ⚠️ { $user } has only { $balance } { $balance ->
        [one] point
       *[other] points
    }: cannot deduct { $amount }. Nothing was changed.

## Grant / deduct

admin-description-line = 📝 Description: { $description }
admin-confirm-grant =
    ❓ <b>Confirm the grant</b>
    { $user } (id <code>{ $id }</code>) gets <b>+{ $amount }</b> { $amount ->
        [one] point
       *[other] points
    }.
admin-confirm-deduct =
    ❓ <b>Confirm the deduct</b>
    { $user } (id <code>{ $id }</code>) loses <b>{ $amount }</b> { $amount ->
        [one] point
       *[other] points
    }.
admin-done-grant = ✅ Granted <b>+{ $amount }</b> { $amount ->
        [one] point
       *[other] points
    } to { $user } (id <code>{ $id }</code>). New balance: <b>{ $balance }</b>.
admin-done-deduct = ✅ Deducted <b>{ $amount }</b> { $amount ->
        [one] point
       *[other] points
    } from { $user } (id <code>{ $id }</code>). New balance: <b>{ $balance }</b>.
admin-done-replayed = ↩️ This command had already been executed: nothing moved again.
admin-notified = 📨 The user was notified ({ $language }).
admin-language-ru = in Russian
admin-language-en = in English
admin-not-notified = 📭 The user could not be notified (they may have blocked the bot).
admin-refused = ⛔ Not executed: { $user } now has only { $balance } { $balance ->
        [one] point
       *[other] points
    }, less than { $amount }. Nothing was changed.
admin-cancelled-grant = ❌ <b>Cancelled</b>: the grant of { $amount } { $amount ->
        [one] point
       *[other] points
    } to { $user } (id <code>{ $id }</code>). Nothing was changed.
admin-cancelled-deduct = ❌ <b>Cancelled</b>: the deduct of { $amount } { $amount ->
        [one] point
       *[other] points
    } from { $user } (id <code>{ $id }</code>). Nothing was changed.
admin-expired = ⌛ This confirmation has expired (24 hours): nothing was changed. Run the command again.
admin-alert-done = ✅ Done
admin-alert-refused = ⛔ Refused: not enough points
admin-alert-cancelled = ❌ Cancelled
admin-already-done = This action has already been executed: nothing moved again.
admin-already-refused = This action was already refused for lack of points.
admin-already-cancelled = This action was already cancelled.
admin-action-not-found = This confirmation no longer exists. Please run the command again.
admin-action-not-yours = This confirmation belongs to another admin.

## What the user receives (in the user's language)

admin-notify-grant = 🎁 The Syntra team credited you <b>+{ $amount }</b> { $amount ->
        [one] point
       *[other] points
    }. Your balance: <b>{ $balance }</b>.
admin-notify-deduct = ➖ The Syntra team deducted <b>{ $amount }</b> { $amount ->
        [one] point
       *[other] points
    } from your balance. Your balance: <b>{ $balance }</b>.
admin-notify-reason = 📝 Reason: { $description }

## /points_user

admin-user-title = 👤 <b>{ $name }</b> · id <code>{ $id }</code>
admin-user-is-admin = 🛡 Admin
admin-user-meta = 🌐 { $language } · joined { $created } · last seen { $seen }
admin-user-balance = 💎 Balance: <b>{ $balance }</b> { $balance ->
        [one] point
       *[other] points
    }
admin-user-lifetime = 📈 Earned, all time: { $earned } · 📉 spent: { $spent }
admin-user-level = { $icon } Level { $level }, <b>{ $name }</b> · level ×{ $level_mult } · { $tier } ×{ $tier_mult }
admin-user-tier-free = 🎫 Tier: FREE
admin-user-tier-active = 🎫 Tier: { $tier } until { $expires }
admin-user-tier-expired = 🎫 Tier: FREE ({ $tier } expired on { $expires })
admin-user-streak = 🔥 Streak: { $streak ->
        [one] { $streak } day
       *[other] { $streak } days
    } (best: { $longest })
admin-user-referrals = 👥 Referrals made: { $count }
admin-user-rank = 🏆 Rank: #{ $rank } · { $transactions ->
        [one] { $transactions } transaction
       *[other] { $transactions } transactions
    }
admin-user-history = 📜 <b>Latest transactions</b> (page { $page } of { $pages })
admin-user-history-empty = 📜 No transactions yet.
admin-user-history-line = { $date } · { $type }: <b>{ $amount }</b> → { $balance }
admin-user-history-by = by admin { $admin }

## /points_config

admin-config-title = ⚙️ <b>Points rules in force</b>: { $section }
admin-config-tab-rates = 💰 Rates
admin-config-tab-tiers = 🎫 Tiers
admin-config-tab-streaks = 🔥 Streaks
admin-config-tab-limits = 🛡 Limits
admin-config-tab-levels = 🏅 Levels
admin-config-request = { $label }: <b>{ $points }</b> base, × level × tier
admin-config-daily = 🎁 Daily login: <b>{ $points }</b> + streak bonus
admin-config-referral-signup = 👥 Referred user signs up: <b>{ $points }</b> to the referrer
admin-config-referral-purchase = 👥 Referred user's first purchase: <b>{ $points }</b> to the referrer
admin-config-subscription = ⭐ { $tier } subscription, per month: <b>{ $points }</b>
admin-config-tiers-note = Request earnings are multiplied by the effective tier:
admin-config-tier = { $tier }: ×{ $multiplier }
admin-config-quotas-note = Daily quotas of served requests (reset at midnight in the bot's time zone):
admin-config-quota = { $tier }: { $items }
admin-config-quota-unlimited = { $tier }: unlimited
admin-config-streaks-note = Paid on the day the streak reaches exactly this length:
admin-config-streak = Day { $day }: <b>+{ $bonus }</b>
admin-config-interval = { $label }: one paid request every { $seconds } s
admin-config-daily-cap = 📅 Daily cap on request earnings: <b>{ $cap }</b> per user
admin-config-admin-limits = 🛠 Admin grant or deduct: at most <b>{ $maximum }</b> per operation, confirmation from <b>{ $threshold }</b>
admin-config-description-limit = 📝 Descriptions: up to { $limit } characters
admin-config-level = { $icon } { $level }. <b>{ $name }</b>: from { $required }, ×{ $multiplier }
admin-config-override = 📄 Override file active: <code>{ $path }</code>
admin-config-defaults = 📄 Built-in defaults: no override file (POINTS_CONFIG_FILE is not set).

## /points_analytics

admin-an-title = 📊 <b>Points analytics</b>: { $section }
admin-an-tab-overview = Overview
admin-an-tab-day = 24 hours
admin-an-tab-types = By type
admin-an-tab-levels = Levels
admin-an-tab-streaks = Streaks
admin-an-tab-top = Top 5
admin-an-updated = 🕒 Updated { $time }
admin-an-refreshed = ↻ Updated
admin-an-empty = No data yet.
admin-an-users = 👥 Users: <b>{ $count }</b>, with a balance: <b>{ $with_balance }</b>
admin-an-circulation = 💎 Points in circulation: <b>{ $points }</b>
admin-an-earned = 📈 Earned, all time: <b>{ $points }</b>
admin-an-spent = 📉 Spent, all time: <b>{ $points }</b>
admin-an-day-earned = 📈 Earned: <b>{ $points }</b>
admin-an-day-spent = 📉 Spent: <b>{ $points }</b>
admin-an-day-transactions = 🔁 Transactions: <b>{ $count }</b>
admin-an-day-active = 🙋 Active users: <b>{ $count }</b>
admin-an-day-new = 🆕 New users: <b>{ $count }</b>
admin-an-type = { $type }: { $count ->
        [one] { $count } transaction
       *[other] { $count } transactions
    }, <b>{ $total }</b>
admin-an-level = { $icon } { $name }: <b>{ $users }</b> ({ $share }%)
admin-an-streak-active = 🔥 Active streaks: <b>{ $count }</b>
admin-an-streak-average = ➗ Average active streak: <b>{ $days }</b> days
admin-an-streak-longest = 🏆 Longest streak: <b>{ $days ->
        [one] { $days } day
       *[other] { $days } days
    }</b>
admin-an-streak-bands = Users by streak length:
admin-an-streak-band = · { $band } days: { $users }
admin-an-top = { $place } { $name } (<code>{ $id }</code>): <b>{ $balance }</b> { $icon }
admin-chart-title = Points per day, last { $days } days
admin-chart-earned = Earned
admin-chart-spent = Spent
admin-chart-caption = 📈 Points earned vs spent per day, last { $days } days ({ $timezone }). Total earned: { $earned }, spent: { $spent }.
