## Shared pieces

points = { $count } { $count ->
        [one] point
       *[other] points
    }
days = { $count } { $count ->
        [one] day
       *[other] days
    }
level-label = { $icon } { $name }
error-generic = ⚠️ Something went wrong on our side. Please try again in a minute.
error-unavailable = ⚠️ Points are temporarily unavailable. Your request was not lost: please try again in a minute.
unknown-command = 🤔 I don't know that command. Send /help to see what I can do.
button-back = « Back

## Commands menu

cmd-start = Start and daily bonus
cmd-points = Your points, level and rank
cmd-level = All levels
cmd-daily = Claim the daily bonus
cmd-language = Change language
cmd-help = Help

## /start

start-welcome-new =
    👋 Welcome to <b>Syntra</b>, { $name }!

    I'm your AI crypto assistant: ask me about coins, markets, DeFi or trading ideas, just write a message.

    💎 You earn points for every answer, daily visits and invited friends. Points lift you through six levels, and higher levels earn faster.
start-welcome-back = 👋 Welcome back, { $name }!
start-referred = 🤝 You joined by { $referrer }'s invitation.
start-ref-unknown = ℹ️ That invite link isn't valid, but you're very welcome all the same.
start-ref-not-new = ℹ️ Invite links work only for new users, so this one was not applied.
start-ref-self = ℹ️ That's your own invite link: share it with friends instead.
referral-bonus = 🎉 { $name } joined Syntra with your invite link: you get +{ $amount } points!

## Menu buttons

menu-points = 💎 My points
menu-daily = 🎁 Daily bonus
menu-earn = 📊 How to earn
menu-language = 🌐 Language
menu-history = 📜 History
menu-top = 🏆 Leaderboard
menu-app = 📱 Open app

## Daily bonus

daily-claimed = 🎁 Daily bonus: <b>+{ $amount }</b> { $amount ->
        [one] point
       *[other] points
    }
daily-streak-line = 🔥 Streak: <b>{ $streak ->
        [one] { $streak } day
       *[other] { $streak } days
    }</b>
daily-bonus-line = 🌟 Streak bonus included: +{ $bonus }
daily-next-milestone = Next streak bonus: +{ $bonus } on day { $day }.
daily-already = ✅ You've already claimed today's bonus (streak: { $streak ->
        [one] { $streak } day
       *[other] { $streak } days
    }). The next one opens in { $hours } h { $minutes } min.

## /points

points-title = 💎 <b>Your points</b>
points-balance = Balance: <b>{ $balance }</b> { $balance ->
        [one] point
       *[other] points
    }
points-level = Level: { $icon } <b>{ $name }</b> (level { $level }, ×{ $multiplier })
points-lifetime = 📈 Earned in total: { $earned } (the level counts these; spending never lowers it)
points-progress = { $bar } { $percent }%
points-to-next = { $missing } { $missing ->
        [one] point
       *[other] points
    } to { $icon } { $name }
points-top-level = 👑 You've reached the highest level!
points-streak = 🔥 Streak: { $streak ->
        [one] { $streak } day
       *[other] { $streak } days
    } (best: { $longest })
points-rank = 🏆 Rank: #{ $rank }
points-today = 📅 Today from requests: { $earned } / { $cap }
points-invite = 🔗 Invite friends: { $link }

## History

history-title = 📜 <b>History</b> (page { $page } of { $pages })
history-empty = 📜 No points movements yet. Ask me something to earn your first points!
history-line = { $date } · { $type }: <b>{ $amount }</b> → { $balance }

tx-earn_text_request = 💬 AI answer
tx-earn_vision_request = 🖼 Image analysis
tx-earn_chart_request = 📈 Chart analysis
tx-earn_daily_login = 🎁 Daily bonus
tx-earn_referral_signup = 👥 Friend joined
tx-earn_referral_purchase = 👥 Friend's first purchase
tx-earn_subscription = ⭐ Subscription
tx-admin_grant = 🎁 Bonus from the team
tx-admin_deduct = ➖ Correction by the team
tx-spend = 🛒 Spent
tx-other = Other

## Leaderboard

top-title = 🏆 <b>Leaderboard</b>
top-line = { $place } { $name } — { $balance } { $icon }
top-empty = Nobody has points yet: be the first!
top-me = Your place: <b>#{ $rank }</b> with { $balance } { $balance ->
        [one] point
       *[other] points
    }

## How to earn

earn-title = 📊 <b>How to earn points</b>
earn-multipliers = Your multipliers: level ×{ $level_mult } · { $tier } ×{ $tier_mult }
earn-requests = <b>For every answered request</b> (your rate):
earn-text = 💬 Question to the AI: +{ $amount }
earn-vision = 🖼 Image analysis: +{ $amount }
earn-chart = 📈 Chart analysis: +{ $amount }
earn-daily = 🎁 Daily bonus: +{ $amount } plus streak bonuses:
earn-streak-line = · day { $day }: +{ $bonus }
earn-referrals = 👥 A friend joins by your link: +{ $signup }; their first purchase: +{ $purchase }
earn-subscriptions = ⭐ Subscriptions, per month: BASIC +{ $basic } · PREMIUM +{ $premium } · VIP +{ $vip }
earn-limits = ⏱ Limits: one paid question every { $text } s, images and charts every { $vision } s; up to { $cap } points a day from requests.

## /level

level-title = 🏅 <b>Levels</b>
level-line = { $icon } <b>{ $name }</b>: from { $required }, ×{ $multiplier }
level-you = { $line }  ◀ you
level-missing = You need { $missing } more { $missing ->
        [one] point
       *[other] points
    } for { $icon } { $name }.
level-max = 👑 You're at the top level. Legendary!
level-up = 🎉 <b>Level up!</b> You're now { $icon } <b>{ $name }</b> (level { $level }): your requests earn ×{ $multiplier }.

## /language

language-choose = 🌐 Choose your language:
language-set = ✅ Language: English

## /help

help-text =
    🤖 <b>Syntra</b> is your AI crypto assistant. Just write a question.

    <b>Commands</b>
    /points: your balance, level, streak and rank
    /level: all levels and what they give
    /daily: claim today's bonus
    /language: switch between English and Russian
    /help: this message

    <b>Points</b>
    Every answered question earns points; higher levels and subscriptions earn faster. Come back daily to grow your streak.

    🔗 Your invite link (+{ $signup } for every friend who joins): { $link }

## AI chat

ai-not-configured = 🤖 The AI assistant isn't connected yet. Please try again later.
ai-timeout = ⌛ The AI assistant is taking too long to answer. Please try again in a moment.
ai-failed = ⚠️ The AI assistant couldn't answer right now. Please try again in a moment.
ai-busy = ⏳ Still answering your previous question: please wait for it, then ask again.
ai-only-text = I can read text messages for now: please send your question as text.
button-stale = This button is out of date. Please open the menu again.
button-not-yours = This button belongs to the person it was shown to. Send the command yourself to get your own.
anonymous-sender = 🙈 I can only help people with their own account: please send this from your own account, not as the group or a channel.
