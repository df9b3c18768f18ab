## /chart: технический анализ

cmd-chart = График и технический анализ монеты
chart-usage =
    📈 <b>График и технический анализ</b>
    Отправьте <code>/chart СИМВОЛ [ТАЙМФРЕЙМ]</code>, например:
    /chart btc
    /chart ETH/USDT 1h
    /chart solusdt 1d
    Таймфреймы: 15m, 1h, 4h (по умолчанию), 1d. Данные: спот { $exchange }.
chart-bad-timeframe = ⚠️ Неизвестный таймфрейм «{ $timeframe }». Доступны: 15m, 1h, 4h, 1d.
chart-unknown-symbol =
    🤷 На споте { $exchange } нет рынка «{ $symbol }».
    Укажите монету или пару, например: /chart btc, /chart ETH/USDT 1h, /chart solusdt 1d.
chart-exchange-down = ⚠️ { $exchange } сейчас не отвечает. Попробуйте через несколько минут.
chart-exchange-timeout = ⌛ { $exchange } отвечает слишком долго. Попробуйте ещё раз чуть позже.
chart-exchange-rate-limited = ⏳ { $exchange } просит нас делать запросы реже. Попробуйте через минуту.
chart-no-history = 🆕 У { $symbol } на { $exchange } пока слишком короткая история торгов для анализа.
chart-up-to-date = График уже актуален.
chart-refresh = 🔄 Обновить
chart-title = 📈 <b>{ $symbol }</b> · { $timeframe } · { $exchange }
chart-price = 💵 Цена: <b>{ $price }</b> ({ $change }% за последнюю свечу)
chart-trend-up = 📊 Тренд: ⬆️ восходящий (цена выше EMA 50, EMA 20 выше EMA 50)
chart-trend-down = 📊 Тренд: ⬇️ нисходящий (цена ниже EMA 50, EMA 20 ниже EMA 50)
chart-trend-sideways = 📊 Тренд: ↔️ боковой (цена и EMA без единого направления)
chart-rsi-overbought = RSI(14): <b>{ $rsi }</b>, перекупленность
chart-rsi-oversold = RSI(14): <b>{ $rsi }</b>, перепроданность
chart-rsi-neutral = RSI(14): <b>{ $rsi }</b>, нейтрально
chart-macd-bullish = MACD(12,26,9): { $macd } выше сигнальной { $signal }, бычий
chart-macd-bearish = MACD(12,26,9): { $macd } ниже сигнальной { $signal }, медвежий
chart-ema = EMA 20 / 50 / 200: { $ema20 } / { $ema50 } / { $ema200 }
chart-bollinger = Боллинджер(20, 2): от { $lower } до { $upper }
chart-levels = 🟢 Поддержка: { $support } · 🔴 Сопротивление: { $resistance } (последние 50 свечей)
chart-volume = 📦 Объём: ×{ $ratio } от среднего за 20 свечей
chart-open-candle = ⏳ Последняя свеча (серая) ещё не закрыта. Данные на { $time } UTC.
chart-closed-candle = Данные на { $time } UTC.
chart-commentary = 🤖 <b>Комментарий ИИ</b>
