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
earn-vision = 🖼 Image analysis (send a photo or screenshot): +{ $amount }
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
    📷 Or send a picture (a chart, a trading screen, a screenshot) with your question in the caption: I'll analyse it (+{ $vision } { $vision ->
        [one] point
       *[other] points
    }).

    <b>Commands</b>
    /chart BTC [4h]: a coin's chart with indicators and analysis (+{ $chart } { $chart ->
        [one] point
       *[other] points
    })
    /points: your balance, level, streak and rank
    /subscribe: plans, payment and your subscription
    /level: all levels and what they give
    /daily: claim today's bonus
    /language: switch between English and Russian
    /help: this message
    /paysupport: help with a payment

    <b>Points</b>
    Every answered question and every chart earns points; higher levels and subscriptions earn faster. Come back daily to grow your streak.

    🔗 Your invite link (+{ $signup } for every friend who joins): { $link }

## AI chat

ai-not-configured = 🤖 The AI assistant isn't connected yet. Please try again later.
ai-timeout = ⌛ The AI assistant is taking too long to answer. Please try again in a moment.
ai-failed = ⚠️ The AI assistant couldn't answer right now. Please try again in a moment.
ai-only-text = I understand text and pictures: send your question as text, or a photo or image file (JPEG, PNG, WEBP) to analyse.

## Pictures

vision-default-question = Analyse this chart or screenshot: what does it show, and what matters in it for a crypto trader?
vision-not-image = 📎 I can only analyse pictures: send a photo or an image file (JPEG, PNG or WEBP). PDFs, videos and other files aren't supported.
vision-too-big = 📏 That picture is too big: I take files up to { $limit } MB. Please send a smaller one, or send it as a photo (Telegram compresses photos).
vision-too-many-pixels = 📏 That picture is too large to open (too many pixels). Please send a smaller one, or send it as a photo.
vision-unreadable = 🖼 I couldn't open that image: the file seems damaged, or it isn't really a JPEG, PNG or WEBP. Please try again, or send it as a photo.
vision-download-failed = ⚠️ I couldn't fetch the picture from Telegram. Please send it again in a moment.

button-stale = This button is out of date. Please open the menu again.

## Daily quotas (served requests per day and plan)

quota-unit-earn_text_request = { $count } { $count ->
        [one] question
       *[other] questions
    }
quota-unit-earn_vision_request = { $count } { $count ->
        [one] image
       *[other] images
    }
quota-unit-earn_chart_request = { $count } { $count ->
        [one] chart
       *[other] charts
    }
quota-unlimited-earn_text_request = unlimited questions
quota-unlimited-earn_vision_request = unlimited images
quota-unlimited-earn_chart_request = unlimited charts
quota-used-up =
    ⏳ You've used today's { $unit } on the { $tier } plan.
    The limit resets at { $time } ({ $zone }), in { $hours } h { $minutes } min.
quota-not-included = ⏳ This isn't included in the { $tier } plan.
quota-more =
    📊 What you've used today: /points
    ⭐ More every day with a plan: /subscribe
quota-item = { $used }/{ $unit }
quota-item-unlimited = { $unit } (no limit)
points-quota = 📊 Today: { $items }
points-quota-unlimited = 📊 Today: { $items } (no daily limits)
ai-busy = ⏳ Still answering your previous question: please wait for it, then ask again.
button-not-yours = This button belongs to the person it was shown to. Send the command yourself to get your own.
anonymous-sender = 🙈 I can only help people with their own account: please send this from your own account, not as the group or a channel.
