## /chart: technical analysis

cmd-chart = Chart and technical analysis of a coin
chart-usage =
    📈 <b>Chart and technical analysis</b>
    Send <code>/chart SYMBOL [TIMEFRAME]</code>, for example:
    /chart btc
    /chart ETH/USDT 1h
    /chart solusdt 1d
    Timeframes: 15m, 1h, 4h (default), 1d. Market data: { $exchange } spot.
chart-bad-timeframe = ⚠️ Unknown timeframe «{ $timeframe }». Use one of: 15m, 1h, 4h, 1d.
chart-unknown-symbol =
    🤷 { $exchange } has no spot market «{ $symbol }».
    Try a coin or a pair, for example: /chart btc, /chart ETH/USDT 1h, /chart solusdt 1d.
chart-exchange-down = ⚠️ { $exchange } is not answering right now. Please try again in a few minutes.
chart-exchange-timeout = ⌛ { $exchange } is taking too long to answer. Please try again in a moment.
chart-exchange-rate-limited = ⏳ { $exchange } asks us to slow down. Please try again in a minute.
chart-no-history = 🆕 { $symbol } has too little trading history on { $exchange } for an analysis yet.
chart-up-to-date = The chart is up to date.
chart-refresh = 🔄 Refresh
chart-title = 📈 <b>{ $symbol }</b> · { $timeframe } · { $exchange }
chart-price = 💵 Price: <b>{ $price }</b> ({ $change }% on the last candle)
chart-trend-up = 📊 Trend: ⬆️ up (price above EMA 50, EMA 20 above EMA 50)
chart-trend-down = 📊 Trend: ⬇️ down (price below EMA 50, EMA 20 below EMA 50)
chart-trend-sideways = 📊 Trend: ↔️ sideways (price and EMAs mixed)
chart-rsi-overbought = RSI(14): <b>{ $rsi }</b>, overbought
chart-rsi-oversold = RSI(14): <b>{ $rsi }</b>, oversold
chart-rsi-neutral = RSI(14): <b>{ $rsi }</b>, neutral
chart-macd-bullish = MACD(12,26,9): { $macd } above signal { $signal }, bullish
chart-macd-bearish = MACD(12,26,9): { $macd } below signal { $signal }, bearish
chart-ema = EMA 20 / 50 / 200: { $ema20 } / { $ema50 } / { $ema200 }
chart-bollinger = Bollinger(20, 2): { $lower } to { $upper }
chart-levels = 🟢 Support: { $support } · 🔴 Resistance: { $resistance } (last 50 candles)
chart-volume = 📦 Volume: ×{ $ratio } of the 20-candle average
chart-open-candle = ⏳ The last candle (grey) is still open. Data as of { $time } UTC.
chart-closed-candle = Data as of { $time } UTC.
chart-commentary = 🤖 <b>AI commentary</b>
