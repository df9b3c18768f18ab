// Syntra Mini App: the user's points from /api/points/* with the `tma` Authorization header.
// No build step and no dependencies but Telegram's own telegram-web-app.js. Every text comes
// from /api/app/texts (src/locales/*/app.ftl); user data is only ever set as textContent.
(() => {
  "use strict";

  const tg = window.Telegram && window.Telegram.WebApp;
  const initData = (tg && tg.initData) || "";
  const tgUser = tg && tg.initDataUnsafe && tg.initDataUnsafe.user;
  const hint = ((tgUser && tgUser.language_code) || navigator.language || "en").toLowerCase();
  const PAGE = 20;
  const MEDALS = { 1: "🥇", 2: "🥈", 3: "🥉" };

  let T = {};
  let lang = hint.startsWith("ru") ? "ru" : "en";
  let levels = [];
  let historyOffset = 0;
  let topLoaded = false;

  const $ = (id) => document.getElementById(id);
  const locale = () => (lang === "ru" ? "ru-RU" : "en-US");
  const num = (n) => new Intl.NumberFormat(locale()).format(n);
  const signed = (n) => (n > 0 ? "+" : n < 0 ? "−" : "") + num(Math.abs(n));
  const fill = (text, values) =>
    (text || "").replace(/\{(\w+)\}/g, (all, key) => (key in values ? String(values[key]) : all));

  class ApiError extends Error {
    constructor(status) {
      super(`HTTP ${status}`);
      this.status = status;
    }
  }

  async function api(path, authorized = true) {
    const headers = authorized && initData ? { Authorization: `tma ${initData}` } : {};
    const response = await fetch(path, { headers });
    if (!response.ok) throw new ApiError(response.status);
    return response.json();
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function applyTheme() {
    if (!tg || !tg.themeParams) return;
    const style = document.documentElement.style;
    for (const [key, value] of Object.entries(tg.themeParams)) {
      if (value) style.setProperty(`--tg-theme-${key.replace(/_/g, "-")}`, value);
    }
    document.documentElement.dataset.scheme = tg.colorScheme || "light";
  }

  function translatePage() {
    document.documentElement.lang = lang;
    document.title = T.title || document.title;
    for (const node of document.querySelectorAll("[data-t]")) {
      node.textContent = T[node.dataset.t] || "";
    }
  }

  function showStatus(message, retry) {
    $("content").hidden = true;
    const status = $("status");
    status.hidden = false;
    status.replaceChildren(el("div", "", message));
    if (retry) {
      const button = el("button", "", T.retry || "↻");
      button.addEventListener("click", () => start());
      status.append(button);
    }
  }

  function errorText(error) {
    if (error && error.status === 401) return T["error-auth"];
    if (error && error.status === 429) return T["error-rate"];
    return T["error-load"];
  }

  async function loadTexts() {
    const path = `/api/app/texts?lang=${lang}`;
    try {
      return { body: await api(path), refused: null };
    } catch (error) {
      // Without valid init data the page still explains itself in the user's language.
      return { body: await api(path, false), refused: error };
    }
  }

  function renderBalance(balance, stats) {
    $("balance").textContent = num(balance.balance);
    $("rank").textContent = `${T.rank} #${num(stats.rank)}`;
    $("level-icon").textContent = balance.level_icon;
    $("level-name").textContent = balance.level_name;
    $("level-number").textContent = fill(T.level, { level: balance.level });
    $("multiplier").textContent = `×${num(balance.earning_multiplier)}`;
    const percent = Math.round(balance.progress_to_next_level * 100);
    $("progress-bar").style.width = `${percent}%`;
    $("progress-bar").parentElement.setAttribute("aria-valuenow", String(percent));
    const next = levels.find((level) => level.level === balance.level + 1);
    $("next-level").textContent = next
      ? fill(T["next-level"], { missing: num(balance.next_level_points), name: `${next.icon} ${next.name}` })
      : T["top-level"];
    $("streak").textContent = `🔥 ${num(balance.current_streak)}`;
    $("streak-best").textContent = `🏅 ${num(balance.longest_streak)}`;
    $("today").textContent = `${num(stats.today.earned)} / ${num(stats.today.cap)}`;
    $("earned").textContent = num(balance.lifetime_earned);
    $("spent").textContent = num(balance.lifetime_spent);
    $("referrals").textContent = `👥 ${num(stats.referrals)}`;
  }

  function renderLevels(current) {
    const list = $("levels");
    list.replaceChildren();
    for (const level of levels) {
      const row = el("li", `row${level.reached ? "" : " locked"}`);
      row.append(el("span", "level-badge", level.icon));
      const main = el("div", "row-main");
      main.append(el("div", "row-title", level.name));
      main.append(el("div", "row-sub", `${fill(T["level-from"], { points: num(level.points_required) })} · ×${num(level.earning_multiplier)}`));
      row.append(main);
      if (level.level === current) row.append(el("span", "badge", T["level-current"]));
      list.append(row);
    }
  }

  async function loadHistory(offset) {
    const page = await api(`/api/points/history?limit=${PAGE}&offset=${offset}`);
    historyOffset = offset;
    const list = $("history");
    list.replaceChildren();
    const when = new Intl.DateTimeFormat(locale(), { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
    for (const item of page.items) {
      const row = el("li", "row");
      const main = el("div", "row-main");
      main.append(el("div", "row-title", item.label));
      const after = fill(T["balance-after"], { balance: num(item.balance_after) });
      main.append(el("div", "row-sub", `${when.format(new Date(item.created_at))} · ${after}`));
      row.append(main);
      row.append(el("div", `amount ${item.amount >= 0 ? "plus" : "minus"}`, signed(item.amount)));
      list.append(row);
    }
    $("history-empty").hidden = page.total > 0;
    const pages = Math.max(1, Math.ceil(page.total / PAGE));
    $("pager").hidden = pages <= 1;
    $("page").textContent = fill(T.page, { page: Math.floor(offset / PAGE) + 1, pages });
    $("newer").disabled = offset === 0;
    $("older").disabled = offset + PAGE >= page.total;
  }

  async function loadTop() {
    const board = await api("/api/points/leaderboard?limit=50");
    const list = $("top");
    list.replaceChildren();
    for (const entry of board.entries) {
      const row = el("li", `row${entry.is_me ? " me" : ""}`);
      row.append(el("span", "place", MEDALS[entry.rank] || String(entry.rank)));
      const main = el("div", "row-main");
      const name = entry.is_me ? `${entry.display_name} (${T["top-you"]})` : entry.display_name;
      main.append(el("div", "row-title", `${entry.level_icon} ${name}`));
      row.append(main);
      row.append(el("div", "amount", num(entry.balance)));
      list.append(row);
    }
    $("top-empty").hidden = board.entries.length > 0;
    $("my-rank").textContent = fill(T["top-your-rank"], { rank: num(board.me.rank) });
    topLoaded = true;
  }

  async function guarded(action) {
    try {
      await action();
    } catch (error) {
      showStatus(errorText(error), true);
    }
  }

  function selectTab(name) {
    for (const tab of document.querySelectorAll(".tab")) {
      tab.classList.toggle("active", tab.dataset.tab === name);
    }
    for (const panel of ["history", "top", "levels"]) $(`tab-${panel}`).hidden = panel !== name;
    if (name === "top" && !topLoaded) guarded(loadTop);
    if (tg && tg.HapticFeedback) tg.HapticFeedback.selectionChanged();
  }

  async function start() {
    showStatus("", false);
    $("status").replaceChildren(el("span", "spinner"));
    let texts;
    try {
      texts = await loadTexts();
    } catch (error) {
      showStatus("⚠️", true);
      return;
    }
    T = texts.body.texts;
    lang = texts.body.language;
    translatePage();
    if (!initData || texts.refused) {
      showStatus(texts.refused ? errorText(texts.refused) : T["error-auth"], !!texts.refused && texts.refused.status !== 401);
      return;
    }
    await guarded(async () => {
      const [balance, stats, levelList] = await Promise.all([
        api("/api/points/balance"),
        api("/api/points/stats"),
        api("/api/points/levels"),
      ]);
      levels = levelList.levels;
      renderBalance(balance, stats);
      renderLevels(levelList.current_level);
      await loadHistory(0);
      topLoaded = false;
      $("status").hidden = true;
      $("content").hidden = false;
    });
  }

  for (const tab of document.querySelectorAll(".tab")) {
    tab.addEventListener("click", () => selectTab(tab.dataset.tab));
  }
  $("newer").addEventListener("click", () => guarded(() => loadHistory(Math.max(0, historyOffset - PAGE))));
  $("older").addEventListener("click", () => guarded(() => loadHistory(historyOffset + PAGE)));

  applyTheme();
  if (tg) {
    tg.onEvent && tg.onEvent("themeChanged", applyTheme);
    tg.ready && tg.ready();
    tg.expand && tg.expand();
  }
  start();
})();
