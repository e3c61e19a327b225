/* The search page and the article view: plain DOM, no build step.
 *
 * Every search state lives in the URL (/?q=&category=&official=&from=&to=&sort=&page=);
 * the page renders from the URL on load and on popstate, and pushes a new entry for each
 * new search. /a/<id> shows one article. Text from the API is inserted as text; only the
 * snippet is inserted as HTML, after checking that it holds nothing but text and <mark>.
 */
"use strict";

(function () {
  const PER_PAGE = 10;
  const MAX_DEPTH = 10000;
  const SUGGEST_LIMIT = 8;
  const SUGGEST_DELAY_MS = 120;
  const FACET_SHOWN = 8;
  const SITE = (document.querySelector('meta[name="application-name"]') || {}).content || "Kho tư liệu tin bài";
  const SORTS = { relevance: "Liên quan nhất", newest: "Mới nhất", oldest: "Cũ nhất" };
  const KIND_LABELS = {
    query: "Từ khóa",
    term: "Từ khóa",
    phrase: "Cụm từ",
    title: "Tiêu đề",
    official: "Nhân vật",
    category: "Chuyên mục",
  };
  const numberFmt = new Intl.NumberFormat("vi-VN");
  const secondsFmt = new Intl.NumberFormat("vi-VN", {
    minimumFractionDigits: 3,
    maximumFractionDigits: 3,
  });

  // ------------------------------------------------------------------ small helpers
  const $ = (id) => document.getElementById(id);

  /** An element with attributes (on* values as listeners) and text/node children. */
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "class") node.className = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    for (const child of children.flat(Infinity)) {
      if (child !== null && child !== undefined) {
        node.append(child instanceof Node ? child : document.createTextNode(String(child)));
      }
    }
    return node;
  }

  const SAFE_SNIPPET = /^(?:[^<>]|<mark>|<\/mark>)*$/;

  /** A snippet node: HTML only when it is plain text with <mark> tags, else text. */
  function snippetNode(snippet) {
    const p = h("p", { class: "result-snippet" });
    if (SAFE_SNIPPET.test(snippet || "")) p.innerHTML = snippet || "";
    else p.textContent = (snippet || "").replace(/<[^>]*>/g, "");
    return p;
  }

  /** "2024-06-20T08:30+07:00" → "20/06/2024" (the date as the archive wrote it). */
  function formatDate(iso) {
    const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || "");
    return m ? `${m[3]}/${m[2]}/${m[1]}` : "";
  }

  function formatDateTime(iso) {
    const t = /T(\d{2}):(\d{2})/.exec(iso || "");
    const day = formatDate(iso);
    return t && (t[1] !== "00" || t[2] !== "00") ? `${t[1]}:${t[2]}, ${day}` : day;
  }

  /** A day typed as dd/mm/yyyy (also d/m/yyyy, with - or . between, or yyyy-mm-dd):
   * "" for an empty box, the ISO day "yyyy-mm-dd", or null when it is no real date. */
  function parseDay(text) {
    const t = String(text || "").trim();
    if (!t) return "";
    let m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(t);
    let day, month, year;
    if (m) [day, month, year] = [Number(m[1]), Number(m[2]), Number(m[3])];
    else if ((m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(t))) [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
    else return null;
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > lastDayOfMonth(year, month)) return null;
    return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
  }

  function isoDay(iso) {
    const m = /^(\d{4}-\d{2}-\d{2})/.exec(iso || "");
    return m ? m[1] : "";
  }

  function lastDayOfMonth(year, month) {
    return new Date(Date.UTC(year, month, 0)).getUTCDate();
  }

  /** The path of an article view; ids may hold "/", kept as path separators. */
  function articlePath(id) {
    return "/a/" + String(id).split("/").map(encodeURIComponent).join("/");
  }

  function apiArticlePath(id) {
    return "/articles/" + String(id).split("/").map(encodeURIComponent).join("/");
  }

  async function getJSON(url, signal) {
    const resp = await fetch(url, { headers: { Accept: "application/json" }, signal });
    let body = null;
    try {
      body = await resp.json();
    } catch (err) {
      body = null;
    }
    return { ok: resp.ok, status: resp.status, body };
  }

  function announce(text) {
    const status = $("status");
    status.textContent = "";
    window.setTimeout(() => (status.textContent = text), 50);
  }

  // ------------------------------------------------------------------ state <-> URL
  function readState(search) {
    const p = new URLSearchParams(search);
    const sort = p.get("sort");
    const page = parseInt(p.get("page") || "1", 10);
    return {
      q: (p.get("q") || "").trim(),
      category: p.getAll("category").filter((v) => v.trim()),
      official: p.getAll("official").filter((v) => v.trim()),
      from: (p.get("from") || "").trim(),
      to: (p.get("to") || "").trim(),
      sort: Object.prototype.hasOwnProperty.call(SORTS, sort) ? sort : "relevance",
      page: Number.isFinite(page) && page > 0 ? page : 1,
    };
  }

  function stateParams(s) {
    const p = new URLSearchParams();
    if (s.q) p.set("q", s.q);
    s.category.forEach((c) => p.append("category", c));
    s.official.forEach((o) => p.append("official", o));
    if (s.from) p.set("from", s.from);
    if (s.to) p.set("to", s.to);
    if (s.sort && s.sort !== "relevance") p.set("sort", s.sort);
    if (s.page > 1) p.set("page", String(s.page));
    return p;
  }

  function pageUrl(s) {
    const qs = stateParams(s).toString();
    return "/" + (qs ? "?" + qs : "");
  }

  const with_ = (s, changes) => Object.assign({}, s, { page: 1 }, changes);
  const hasFilters = (s) => s.category.length || s.official.length || s.from || s.to;

  // ------------------------------------------------------------------ scroll on Back
  // The results are drawn after the page loads, too late for the browser's own scroll
  // restoration: each history entry keeps its scroll offset in its state instead, and
  // the view restores it once drawn when it is revisited (Back, Forward, reload).
  let restoreScroll = null; // the offset to restore once the current view is drawn
  let saveTimer = 0;

  function saveScroll() {
    window.clearTimeout(saveTimer);
    const state = Object.assign({}, history.state || {}, { scrollY: Math.round(window.scrollY) });
    history.replaceState(state, "");
  }

  function restoreScrollOnce() {
    if (restoreScroll === null) return;
    const y = restoreScroll;
    restoreScroll = null;
    window.scrollTo({ top: y });
  }

  function revisit() {
    restoreScroll = history.state && Number.isFinite(history.state.scrollY) ? history.state.scrollY : null;
    route();
  }

  /** Enter a new history entry for ``url`` (the one we leave keeps its scroll). */
  function pushUrl(url) {
    saveScroll();
    history.pushState(null, "", url);
  }

  /** A new search: a new history entry, then render it. */
  function navigate(s, options) {
    const url = pageUrl(s);
    restoreScroll = null;
    if (options && options.replace) history.replaceState(null, "", url);
    else if (location.pathname + location.search !== url) pushUrl(url);
    route();
    if (options && options.focusResults) $("summary").focus({ preventScroll: true });
    if (options && options.scroll) window.scrollTo({ top: 0 });
  }

  /** A visitor opening a result counts as a click on its query (the owner's query log;
   * only the query text is sent). */
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest(".result-title a");
    if (!link || !current || !current.q || !navigator.sendBeacon) return;
    const body = new Blob([JSON.stringify({ q: current.q })], { type: "application/json" });
    navigator.sendBeacon("/queries/click", body);
  });

  /** Links marked data-nav are searches: handled in the page, not by a page load. */
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a[data-nav]");
    if (!link || event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const url = new URL(link.getAttribute("href"), location.href); // SVG links too
    if (url.origin !== location.origin || url.pathname !== "/") return;
    event.preventDefault();
    navigate(readState(url.search), { scroll: link.dataset.nav === "top", focusResults: true });
    if (link.dataset.nav === "facet") collapseFiltersOnPhone();
  });

  const phone = () => window.matchMedia && window.matchMedia("(max-width: 760px)").matches;

  /** On a phone the filter panel folds away once a filter is chosen, so that the
   * results start on the first screen; its title counts the filters in force. */
  function collapseFiltersOnPhone() {
    if (!phone()) return;
    $("filters-details").open = false;
    const top = $("search-view").getBoundingClientRect().top + window.scrollY;
    if (window.scrollY > top) window.scrollTo({ top });
  }

  // ------------------------------------------------------------------ routing
  let current = null; // the state the search view shows

  function route() {
    const path = location.pathname;
    if (path.startsWith("/a/")) {
      let id = path.slice(3);
      try {
        id = decodeURIComponent(id);
      } catch (err) {
        /* keep the raw id */
      }
      showArticle(id);
    } else {
      showSearch(readState(location.search));
    }
  }

  // ------------------------------------------------------------------ search view
  let searchSeq = 0;
  let searchAbort = null;

  function histogramUnit(s) {
    if (s.from && s.to) {
      const a = Date.parse(s.from.length === 4 ? s.from + "-01-01" : s.from);
      const b = Date.parse(s.to.length === 4 ? s.to + "-12-31" : s.to);
      if (Number.isFinite(a) && Number.isFinite(b) && b - a <= 731 * 86400000) return "month";
    }
    return "year";
  }

  async function showSearch(s) {
    current = s;
    $("article-view").hidden = true;
    $("search-view").hidden = false;
    const input = $("q");
    if (document.activeElement !== input || input.value.trim() !== s.q) input.value = s.q;
    document.title = s.q ? `${s.q} – ${SITE}` : SITE;
    const params = stateParams(s);
    params.set("per_page", String(PER_PAGE));
    params.set("histogram", histogramUnit(s));
    // the owner's query log counts each search once: not again on Back or reload
    const state = history.state || {};
    const log = s.q && s.page === 1 && !state.logged;
    if (log) params.set("log", "true");
    const seq = ++searchSeq;
    if (searchAbort) searchAbort.abort();
    searchAbort = new AbortController();
    $("results").setAttribute("aria-busy", "true");
    $("search-view").classList.add("loading");
    let answer;
    try {
      answer = await getJSON("/search?" + params.toString(), searchAbort.signal);
    } catch (err) {
      if (err.name === "AbortError") return;
      answer = { ok: false, status: 0, body: null };
    }
    if (seq !== searchSeq) return;
    $("results").removeAttribute("aria-busy");
    $("search-view").classList.remove("loading");
    if (log && answer.ok) history.replaceState(Object.assign({}, history.state || {}, { logged: true }), "");
    if (answer.ok && answer.body) renderResults(s, answer.body);
    else renderError(s, answer);
    restoreScrollOnce();
  }

  /** What a 400 means, in Vietnamese, from the parameter the API names (its English
   * text is for developers). */
  function badParameterMessage(parameter) {
    const messages = {
      q: "Từ khóa tìm kiếm quá dài hoặc không hợp lệ (date: cần một ngày như date:2020-06). Hãy sửa lại từ khóa.",
      from: "Ngày bắt đầu không hợp lệ. Nhập theo dạng ngày/tháng/năm, ví dụ 20/06/2024, và trước ngày kết thúc.",
      to: "Ngày kết thúc không hợp lệ. Nhập theo dạng ngày/tháng/năm, ví dụ 20/06/2024.",
      category: "Chuyên mục đã chọn không hợp lệ.",
      official: "Nhân vật đã chọn không hợp lệ.",
      sort: "Cách sắp xếp không hợp lệ.",
      page: "Số trang không hợp lệ hoặc quá sâu. Hãy thu hẹp tìm kiếm bằng bộ lọc.",
      per_page: "Số kết quả mỗi trang không hợp lệ.",
    };
    return messages[parameter] || "Yêu cầu tìm kiếm chưa hợp lệ. Hãy kiểm tra lại từ khóa và bộ lọc.";
  }

  function renderError(s, answer) {
    const body = answer.body || {};
    const message =
      answer.status === 400
        ? badParameterMessage(body.parameter)
        : answer.status === 503
          ? "Dịch vụ tìm kiếm đang tạm thời không sẵn sàng. Vui lòng thử lại sau ít phút."
          : "Không kết nối được với dịch vụ tìm kiếm. Vui lòng thử lại.";
    $("summary").textContent = "";
    $("results").replaceChildren();
    $("partial").hidden = true;
    $("pagination").replaceChildren();
    $("histogram").hidden = true;
    $("did-you-mean").hidden = true;
    $("facets").replaceChildren();
    renderChips(s);
    const empty = $("empty");
    empty.hidden = false;
    empty.replaceChildren(
      h("h2", { class: "empty-title" }, "Không thực hiện được tìm kiếm"),
      h("p", { role: "alert" }, message),
    );
  }

  function renderResults(s, data) {
    const total = data.total || 0;
    renderSummary(s, data);
    $("sort").querySelector("option[value=relevance]").disabled = !s.q;
    $("sort").value = data.sort || s.sort;
    renderDidYouMean(s, data.did_you_mean, total);
    renderChips(s);
    renderFacets(s, data.facets || {});
    renderHistogram(s, data.histogram);
    const list = $("results");
    list.replaceChildren(...(data.hits || []).map(renderHit));
    list.setAttribute("start", String((s.page - 1) * PER_PAGE + 1));
    // partial matches (some of the words): listed apart, never counted in the total
    const partial = (data.partial && data.partial.hits) || [];
    $("partial-results").replaceChildren(...partial.map(renderHit));
    $("partial").hidden = !partial.length;
    renderEmpty(s, total, (data.hits || []).length + partial.length);
    renderPagination(s, total);
    announce(
      total ? `Tìm thấy ${numberFmt.format(total)} kết quả` : "Không tìm thấy kết quả phù hợp",
    );
  }

  function renderSummary(s, data) {
    const total = data.total || 0;
    const seconds = secondsFmt.format(Math.max(0.001, (data.took_ms || 0) / 1000));
    const summary = $("summary");
    summary.setAttribute("tabindex", "-1");
    const parts = [];
    if (s.q) {
      parts.push("Tìm thấy ", h("strong", {}, numberFmt.format(total)), " kết quả cho ");
      parts.push(h("q", { class: "summary-query" }, s.q));
    } else {
      parts.push(h("strong", {}, numberFmt.format(total)), " tin bài");
      parts.push(hasFilters(s) ? " phù hợp bộ lọc" : " trong kho, mới nhất trước");
    }
    parts.push(h("span", { class: "took" }, ` (${seconds} giây)`));
    if (total > PER_PAGE) {
      const first = (s.page - 1) * PER_PAGE + 1;
      const last = Math.min(total, s.page * PER_PAGE);
      parts.push(h("span", { class: "range" }, ` · hiển thị ${first}–${last}`));
    }
    summary.replaceChildren(...parts);
    if (data.showing_results_for) {
      summary.append(
        h(
          "span",
          { class: "relaxed" },
          "Hiển thị kết quả cho ",
          h("q", {}, data.showing_results_for),
          " (không có tin bài chứa đúng các từ có dấu đã nhập).",
        ),
      );
    }
    if (data.relaxed) {
      summary.append(
        h(
          "span",
          { class: "relaxed" },
          total
            ? "Ít tin bài chứa đủ mọi từ đã nhập; bên dưới có thêm các kết quả chứa một phần."
            : "Không có tin bài chứa đủ mọi từ đã nhập; dưới đây là các kết quả chứa một phần.",
        ),
      );
    }
  }

  /** Lowercase without Vietnamese diacritics: "Thành ủy" → "thanh uy". */
  function fold(text) {
    return String(text || "")
      .normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "")
      .replace(/[đĐ]/g, "d")
      .toLowerCase()
      .replace(/\s+/g, " ")
      .trim();
  }

  /** "Bạn có muốn tìm: …", except when it only adds accents to a query that found results. */
  function renderDidYouMean(s, suggestion, total) {
    const box = $("did-you-mean");
    const text =
      typeof suggestion === "string"
        ? suggestion
        : suggestion && (suggestion.query || suggestion.text || "");
    const onlyAccents = total > 0 && fold(text) === fold(s.q);
    if (!text || text === s.q || onlyAccents) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    const target = with_(s, { q: text });
    box.replaceChildren(
      "Bạn có muốn tìm: ",
      h("a", { href: pageUrl(target), "data-nav": "top", class: "dym-link" }, text),
      "?",
    );
    box.hidden = false;
  }

  function renderHit(hit) {
    const meta = [];
    if (hit.date) meta.push(h("time", { datetime: isoDay(hit.date) }, formatDate(hit.date)));
    if (hit.category) {
      meta.push(
        h(
          "a",
          {
            class: "tag",
            href: pageUrl(with_(current, { category: [hit.category] })),
            "data-nav": "top",
            title: `Lọc theo chuyên mục ${hit.category}`,
          },
          hit.category,
        ),
      );
    }
    if (hit.source) meta.push(h("span", { class: "source" }, hit.source));
    const officials = (hit.officials || []).length
      ? h(
          "p",
          { class: "result-officials" },
          h("span", { class: "label" }, "Nhân vật: "),
          hit.officials.map((name, i) => [
            i ? ", " : "",
            h(
              "a",
              {
                href: pageUrl(with_(current, { official: addValue(current.official, name) })),
                "data-nav": "top",
              },
              name,
            ),
          ]),
        )
      : null;
    return h(
      "li",
      { class: "result" },
      h("h2", { class: "result-title" }, h("a", { href: articlePath(hit.id) }, hit.title || hit.id)),
      h("p", { class: "result-meta" }, meta.map((m, i) => [i ? h("span", { class: "sep", "aria-hidden": "true" }, "•") : "", m])),
      snippetNode(hit.snippet),
      officials,
    );
  }

  function addValue(list, value) {
    return list.includes(value) ? list.slice() : list.concat([value]);
  }

  function removeValue(list, value) {
    return list.filter((v) => v !== value);
  }

  function renderEmpty(s, total, shown) {
    const empty = $("empty");
    if (shown) {
      empty.hidden = true;
      empty.replaceChildren();
      return;
    }
    const tips = [];
    if (hasFilters(s)) {
      tips.push(
        h(
          "li",
          {},
          "Thử ",
          h(
            "a",
            { href: pageUrl({ q: s.q, category: [], official: [], from: "", to: "", sort: s.sort, page: 1 }), "data-nav": "top" },
            "tìm lại không kèm bộ lọc",
          ),
          ".",
        ),
      );
    }
    tips.push(h("li", {}, "Kiểm tra lại chính tả; có thể gõ không dấu, ví dụ “thanh uy ha noi”."));
    tips.push(h("li", {}, "Dùng ít từ hơn hoặc từ khóa chung hơn."));
    tips.push(h("li", {}, "Bỏ dấu ngoặc kép nếu đang tìm một cụm từ chính xác."));
    const title =
      total && s.page > 1
        ? "Trang này không còn kết quả."
        : s.q
          ? `Không tìm thấy kết quả phù hợp với “${s.q}”.`
          : "Không có tin bài nào phù hợp bộ lọc.";
    const children = [h("h2", { class: "empty-title" }, title), h("p", {}, "Gợi ý:"), h("ul", {}, tips)];
    if (total && s.page > 1) {
      children.splice(1, 2, h("p", {}, h("a", { href: pageUrl(with_(s, {})), "data-nav": "top" }, "Về trang đầu tiên")));
    }
    empty.replaceChildren(...children);
    empty.hidden = false;
  }

  // ------------------------------------------------------------------ facets and chips
  const expanded = { category: false, official: false };
  const FACET_API_LIMIT = 20; // values per facet in a /search answer (the API's default)
  const FACET_ALL = 1000; // what "Xem thêm" asks for once the shown values run out
  const moreValues = { key: "", category: null, official: null }; // fetched for one search

  /** Every value of a facet for the current search (one extra request, facets only). */
  async function fetchAllValues(s, key) {
    const params = stateParams(s);
    params.delete("page");
    params.set("per_page", "1");
    params.set("facet_limit", String(FACET_ALL));
    const answer = await getJSON("/search?" + params.toString());
    if (!answer.ok || !answer.body || !answer.body.facets) return null;
    return answer.body.facets[key] || [];
  }

  function facetGroup(key, title, values, active) {
    const stateKey = pageUrl(with_(current, {}));
    if (moreValues.key !== stateKey) Object.assign(moreValues, { key: stateKey, category: null, official: null });
    if (moreValues[key]) values = moreValues[key];
    const rows = values.map((v) => ({ value: String(v.value), count: v.count }));
    for (const value of active) {
      if (!rows.some((r) => r.value === value)) rows.unshift({ value, count: null });
    }
    if (!rows.length) return null;
    rows.sort((a, b) => active.includes(b.value) - active.includes(a.value));
    const limit = expanded[key] ? rows.length : Math.max(FACET_SHOWN, active.length);
    const items = rows.slice(0, limit).map((row) => {
      const on = active.includes(row.value);
      const next = on ? removeValue(active, row.value) : addValue(active, row.value);
      return h(
        "li",
        {},
        h(
          "a",
          {
            class: "facet" + (on ? " on" : ""),
            href: pageUrl(with_(current, { [key]: next })),
            "data-nav": "facet",
            role: "checkbox",
            "aria-checked": on ? "true" : "false",
            "aria-label": `${row.value}${row.count !== null ? `, ${row.count} kết quả` : ""}${on ? ", đang chọn, bấm để bỏ" : ""}`,
          },
          h("span", { class: "facet-check", "aria-hidden": "true" }),
          h("span", { class: "facet-name" }, row.value),
          row.count !== null ? h("span", { class: "count", "aria-hidden": "true" }, numberFmt.format(row.count)) : null,
        ),
      );
    });
    const truncated = !moreValues[key] && values.length >= FACET_API_LIMIT;
    const hidden = rows.length - limit;
    const redraw = (focus) => {
      const group = facetGroup(key, title, values, active);
      document.getElementById(`facet-${key}`).replaceWith(group);
      if (focus) group.querySelector(".more").focus();
    };
    const more =
      hidden > 0 || truncated || expanded[key]
        ? h(
            "button",
            {
              type: "button",
              class: "more",
              "aria-expanded": String(expanded[key] && !truncated),
              onclick: async (event) => {
                if (expanded[key] && !truncated) {
                  expanded[key] = false;
                  return redraw(true);
                }
                expanded[key] = true;
                if (truncated) {
                  const s = current;
                  event.currentTarget.disabled = true;
                  event.currentTarget.textContent = "Đang tải…";
                  const all = await fetchAllValues(s, key).catch(() => null);
                  if (s !== current) return;
                  if (all) moreValues[key] = all;
                  else {
                    event.currentTarget.disabled = false;
                    event.currentTarget.textContent = "Không tải được, thử lại";
                    return;
                  }
                }
                redraw(true);
              },
            },
            expanded[key] && !truncated ? "Thu gọn" : hidden > 0 ? `Xem thêm (${hidden}${truncated ? "+" : ""})` : "Xem thêm",
          )
        : null;
    return h(
      "section",
      { class: "facet-group", id: `facet-${key}`, "aria-labelledby": `facet-${key}-title` },
      h("h3", { id: `facet-${key}-title` }, title),
      h("ul", { class: "facet-list" }, items),
      more,
    );
  }

  function yearRange(year) {
    return { from: `${year}-01-01`, to: `${year}-12-31` };
  }

  function dateGroup(s, years) {
    const yearButtons = years
      .slice()
      .sort((a, b) => Number(a.value) - Number(b.value))
      .map((y) => {
        const range = yearRange(y.value);
        const on = s.from === range.from && s.to === range.to;
        const target = on ? with_(s, { from: "", to: "" }) : with_(s, range);
        return h(
          "li",
          {},
          h(
            "a",
            {
              class: "year" + (on ? " on" : ""),
              href: pageUrl(target),
              "data-nav": "",
              "aria-current": on ? "true" : null,
              "aria-label": `Năm ${y.value}, ${y.count} kết quả${on ? ", đang chọn, bấm để bỏ" : ""}`,
            },
            String(y.value),
            h("span", { class: "count", "aria-hidden": "true" }, numberFmt.format(y.count)),
          ),
        );
      });
    const dateInput = (id, name, value) =>
      h("input", {
        type: "text",
        id,
        name,
        inputmode: "numeric",
        autocomplete: "off",
        placeholder: "dd/mm/yyyy",
        maxlength: "10",
        "aria-describedby": "date-format date-error",
        value: /^\d{4}-\d{2}-\d{2}$/.test(value) ? formatDate(value) : value || null,
      });
    const from = dateInput("date-from", "from", s.from);
    const to = dateInput("date-to", "to", s.to);
    const error = h("p", { class: "date-error", id: "date-error", role: "alert", hidden: true });
    const fail = (input, message) => {
      error.textContent = message;
      error.hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.focus();
    };
    const form = h(
      "form",
      {
        class: "date-form",
        novalidate: true,
        onsubmit: (event) => {
          event.preventDefault();
          from.removeAttribute("aria-invalid");
          to.removeAttribute("aria-invalid");
          const a = parseDay(from.value);
          const b = parseDay(to.value);
          if (a === null) return fail(from, `“${from.value.trim()}” không phải là ngày hợp lệ. Nhập theo dạng ngày/tháng/năm, ví dụ 20/06/2024.`);
          if (b === null) return fail(to, `“${to.value.trim()}” không phải là ngày hợp lệ. Nhập theo dạng ngày/tháng/năm, ví dụ 20/06/2024.`);
          if (a && b && a > b) return fail(from, "Ngày bắt đầu phải trước ngày kết thúc.");
          navigate(with_(current, { from: a, to: b }), { focusResults: true });
          collapseFiltersOnPhone();
        },
      },
      h("div", { class: "date-field" }, h("label", { for: "date-from" }, "Từ ngày"), from),
      h("div", { class: "date-field" }, h("label", { for: "date-to" }, "Đến ngày"), to),
      h("p", { class: "date-format", id: "date-format" }, "Dạng ngày/tháng/năm, ví dụ 20/06/2024"),
      error,
      h("button", { type: "submit", class: "apply" }, "Áp dụng"),
    );
    return h(
      "section",
      { class: "facet-group", id: "facet-date", "aria-labelledby": "facet-date-title" },
      h("h3", { id: "facet-date-title" }, "Thời gian"),
      yearButtons.length ? h("ul", { class: "year-list", "aria-label": "Theo năm" }, yearButtons) : null,
      form,
    );
  }

  function renderFacets(s, facets) {
    const groups = [
      facetGroup("category", "Chuyên mục", facets.category || [], s.category),
      facetGroup("official", "Nhân vật", facets.official || [], s.official),
      dateGroup(s, facets.year || []),
    ];
    $("facets").replaceChildren(...groups.filter(Boolean));
  }

  function describeDates(s) {
    const yf = /^(\d{4})-01-01$/.exec(s.from);
    const yt = /^(\d{4})-12-31$/.exec(s.to);
    if (yf && yt && yf[1] === yt[1]) return `Năm ${yf[1]}`;
    const show = (v) => (/^\d{4}-\d{2}-\d{2}$/.test(v) ? formatDate(v) : v);
    if (s.from && s.to) return `${show(s.from)} – ${show(s.to)}`;
    if (s.from) return `Từ ${show(s.from)}`;
    return `Đến ${show(s.to)}`;
  }

  function chip(label, value, target) {
    return h(
      "a",
      {
        class: "chip",
        href: pageUrl(target),
        "data-nav": "",
        "aria-label": `Bỏ lọc ${label.toLowerCase()}: ${value}`,
      },
      h("span", { class: "chip-label" }, label + ": "),
      value,
      h("span", { class: "chip-x", "aria-hidden": "true" }, "×"),
    );
  }

  function renderChips(s) {
    const chips = [];
    s.category.forEach((c) =>
      chips.push(chip("Chuyên mục", c, with_(s, { category: removeValue(s.category, c) }))),
    );
    s.official.forEach((o) =>
      chips.push(chip("Nhân vật", o, with_(s, { official: removeValue(s.official, o) }))),
    );
    if (s.from || s.to) chips.push(chip("Thời gian", describeDates(s), with_(s, { from: "", to: "" })));
    if (chips.length > 1) {
      chips.push(
        h(
          "a",
          {
            class: "chip-clear",
            href: pageUrl({ q: s.q, category: [], official: [], from: "", to: "", sort: s.sort, page: 1 }),
            "data-nav": "",
          },
          "Xóa tất cả bộ lọc",
        ),
      );
    }
    const count = s.category.length + s.official.length + (s.from || s.to ? 1 : 0);
    $("filters-title").textContent = count ? `Thu hẹp kết quả (${count})` : "Thu hẹp kết quả";
    const box = $("chips");
    box.replaceChildren(...chips);
    box.hidden = !chips.length;
  }

  // ------------------------------------------------------------------ histogram
  function periodRange(period) {
    const m = /^(\d{4})(?:-(\d{2}))?$/.exec(period);
    if (!m) return null;
    if (!m[2]) return yearRange(m[1]);
    const last = lastDayOfMonth(Number(m[1]), Number(m[2]));
    return { from: `${m[1]}-${m[2]}-01`, to: `${m[1]}-${m[2]}-${String(last).padStart(2, "0")}` };
  }

  function periodLabel(period) {
    const m = /^(\d{4})-(\d{2})$/.exec(period);
    return m ? `${m[2]}/${m[1]}` : period;
  }

  /** The periods between the first and the last, empty ones included. */
  function fillPeriods(bins) {
    const key = (b) => b.period;
    const sorted = bins.slice().sort((a, b) => (key(a) < key(b) ? -1 : 1));
    if (sorted.length < 2) return sorted;
    const counts = new Map(sorted.map((b) => [b.period, b.count]));
    const monthly = /^\d{4}-\d{2}$/.test(sorted[0].period);
    const [y0, m0] = sorted[0].period.split("-").map(Number);
    const [y1, m1] = sorted[sorted.length - 1].period.split("-").map(Number);
    const filled = [];
    if (!monthly) {
      if (y1 - y0 > 200) return sorted;
      for (let y = y0; y <= y1; y++) filled.push({ period: String(y), count: counts.get(String(y)) || 0 });
      return filled;
    }
    if ((y1 - y0) * 12 + (m1 - m0) > 600) return sorted;
    for (let y = y0, m = m0; y < y1 || (y === y1 && m <= m1); m === 12 ? (y++, (m = 1)) : m++) {
      const period = `${y}-${String(m).padStart(2, "0")}`;
      filled.push({ period, count: counts.get(period) || 0 });
    }
    return filled;
  }

  function renderHistogram(s, histogram) {
    const fig = $("histogram");
    const bins = fillPeriods((histogram || []).filter((b) => b && /^\d{4}(-\d{2})?$/.test(b.period)));
    if (bins.length < 2) {
      fig.hidden = true;
      fig.replaceChildren();
      return;
    }
    const monthly = bins[0].period.length > 4;
    const column = document.querySelector(".results-col");
    const width = Math.max(240, Math.round((column ? column.clientWidth : 670) - 30));
    const height = 96;
    const top = 6;
    const labelH = 18;
    const max = Math.max(...bins.map((b) => b.count), 1);
    const slot = width / bins.length;
    const barW = Math.max(2, Math.min(48, slot * 0.7));
    const every = Math.ceil(bins.length / 12);
    const chart = svg("svg", {
      viewBox: `0 0 ${width} ${height + labelH}`,
      class: "histogram-chart",
      role: "img",
      "aria-labelledby": "histogram-caption",
    });
    chart.append(svg("line", { x1: 0, x2: width, y1: height + 0.5, y2: height + 0.5, class: "axis" }));
    bins.forEach((bin, i) => {
      const barH = bin.count ? Math.max(2, ((height - top) * bin.count) / max) : 0;
      const x = i * slot + (slot - barW) / 2;
      const range = periodRange(bin.period);
      const label = `${periodLabel(bin.period)}: ${numberFmt.format(bin.count)} kết quả`;
      const bar = svg("rect", { x, y: height - barH, width: barW, height: barH, rx: 2, class: "bar" });
      const hit = svg("rect", { x: i * slot, y: 0, width: slot, height, class: "bar-hit" });
      const group = range && bin.count
        ? svg("a", { href: pageUrl(with_(s, range)), "data-nav": "", "aria-label": label }, svg("title", {}, label), hit, bar)
        : svg("g", {}, svg("title", {}, label), hit, bar);
      chart.append(group);
      if (i % every === 0) {
        chart.append(
          svg("text", { x: i * slot + slot / 2, y: height + 14, class: "tick", "text-anchor": "middle" }, periodLabel(bin.period)),
        );
      }
    });
    fig.replaceChildren(
      h(
        "figcaption",
        { id: "histogram-caption" },
        monthly ? "Số kết quả theo tháng" : "Số kết quả theo năm",
        h("span", { class: "hint" }, " — bấm vào một cột để lọc theo thời gian đó"),
      ),
      chart,
    );
    fig.hidden = false;
  }

  // ------------------------------------------------------------------ pagination
  function renderPagination(s, total) {
    const nav = $("pagination");
    const pages = Math.ceil(Math.min(total, MAX_DEPTH) / PER_PAGE);
    if (pages <= 1) {
      nav.replaceChildren();
      return;
    }
    const link = (page, label, attrs) =>
      h(
        "a",
        Object.assign({ href: pageUrl(Object.assign({}, s, { page })), "data-nav": "top" }, attrs),
        label,
      );
    const items = [];
    if (s.page > 1) items.push(link(s.page - 1, "‹ Trước", { class: "page prev", rel: "prev" }));
    const wanted = new Set([1, pages, s.page - 2, s.page - 1, s.page, s.page + 1, s.page + 2]);
    let last = 0;
    for (let p = 1; p <= pages; p++) {
      if (!wanted.has(p)) continue;
      if (p - last > 1) items.push(h("span", { class: "gap", "aria-hidden": "true" }, "…"));
      items.push(
        p === s.page
          ? h("span", { class: "page current", "aria-current": "page" }, String(p))
          : link(p, String(p), { class: "page", "aria-label": `Trang ${p}` }),
      );
      last = p;
    }
    if (s.page < pages) items.push(link(s.page + 1, "Sau ›", { class: "page next", rel: "next" }));
    nav.replaceChildren(h("div", { class: "pages" }, items));
  }

  // ------------------------------------------------------------------ article view
  let articleSeq = 0;

  async function showArticle(id) {
    const seq = ++articleSeq;
    searchSeq++; // a pending search must not draw over the article
    current = null;
    $("search-view").hidden = true;
    const view = $("article-view");
    view.hidden = false;
    if (view.dataset.rendered !== undefined) {
      // drawn by the server for this URL: keep it, make "back" return to the results
      delete view.dataset.rendered;
      const crumb = view.querySelector(".breadcrumb");
      if (crumb) crumb.replaceWith(backLink());
      restoreScrollOnce();
      return;
    }
    view.setAttribute("aria-busy", "true");
    view.replaceChildren(h("p", { class: "loading-text" }, "Đang tải tin bài…"));
    if (document.activeElement !== $("q")) $("q").value = "";
    let answer;
    try {
      answer = await getJSON(apiArticlePath(id));
    } catch (err) {
      answer = { ok: false, status: 0, body: null };
    }
    if (seq !== articleSeq) return;
    view.removeAttribute("aria-busy");
    if (!answer.ok || !answer.body) {
      document.title = `Không tìm thấy tin bài – ${SITE}`;
      view.replaceChildren(
        backLink(),
        h("h1", { class: "article-title" }, answer.status === 404 ? "Không tìm thấy tin bài" : "Không tải được tin bài"),
        h(
          "p",
          {},
          answer.status === 404
            ? "Tin bài này không có trong kho hoặc đã bị gỡ. "
            : "Dịch vụ tìm kiếm đang tạm thời không sẵn sàng. ",
          h("a", { href: "/" }, "Về trang tìm kiếm"),
        ),
      );
      return;
    }
    renderArticle(answer.body);
    restoreScrollOnce();
    loadRelated(id, seq);
  }

  function backLink() {
    const sameOrigin = document.referrer && new URL(document.referrer).origin === location.origin;
    return h(
      "nav",
      { class: "breadcrumb", "aria-label": "Điều hướng" },
      h(
        "a",
        {
          href: "/",
          onclick: (event) => {
            if (sameOrigin && history.length > 1) {
              event.preventDefault();
              history.back();
            }
          },
        },
        "‹ Quay lại kết quả tìm kiếm",
      ),
    );
  }

  function renderArticle(a) {
    document.title = `${a.title || a.id} – ${SITE}`;
    const meta = [];
    if (a.date) meta.push(h("time", { datetime: isoDay(a.date) }, formatDateTime(a.date)));
    if (a.category) {
      meta.push(h("a", { class: "tag", href: pageUrl(readState("?category=" + encodeURIComponent(a.category))), "data-nav": "top" }, a.category));
    }
    if (a.views !== null && a.views !== undefined) meta.push(h("span", { class: "views" }, `${numberFmt.format(a.views)} lượt xem`));
    if (a.source) meta.push(h("span", { class: "source" }, a.source));
    const paragraphs = (a.body || "")
      .split(/\n+/)
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => h("p", {}, p));
    const officials = (a.officials || []).map((o) => {
      const name = typeof o === "string" ? o : o.name;
      const positions = (o && o.positions) || [];
      return h(
        "li",
        {},
        h("a", { href: "/?official=" + encodeURIComponent(name).replace(/%20/g, "+"), "data-nav": "top", class: "official-link" }, name),
        positions.length ? h("span", { class: "positions" }, positions.join("; ")) : null,
      );
    });
    const side = h(
      "aside",
      { class: "article-side" },
      officials.length
        ? h(
            "section",
            { class: "side-box", "aria-labelledby": "officials-title" },
            h("h2", { id: "officials-title" }, "Nhân vật trong bài"),
            h("ul", { class: "officials" }, officials),
          )
        : null,
      h("section", { class: "side-box", id: "related", "aria-labelledby": "related-title", hidden: true }),
    );
    $("article-view").replaceChildren(
      backLink(),
      h(
        "div",
        { class: "article-layout" },
        h(
          "div",
          { class: "article-main" },
          h("header", {}, h("h1", { class: "article-title" }, a.title || a.id), h("p", { class: "article-meta" }, meta.map((m, i) => [i ? h("span", { class: "sep", "aria-hidden": "true" }, "•") : "", m]))),
          h("div", { class: "article-body" }, paragraphs),
          a.url && /^https?:\/\//.test(a.url)
            ? h("p", { class: "article-source" }, h("a", { href: a.url, rel: "noopener noreferrer", target: "_blank" }, "Xem bài gốc ↗"))
            : null,
        ),
        side,
      ),
    );
    window.scrollTo({ top: 0 });
  }

  async function loadRelated(id, seq) {
    let answer;
    try {
      answer = await getJSON("/related?" + new URLSearchParams({ id, limit: "5" }).toString());
    } catch (err) {
      return;
    }
    const box = $("related");
    if (seq !== articleSeq || !box || !answer.ok || !answer.body) return;
    const hits = (answer.body.hits || []).filter((hit) => hit.id !== id);
    if (!hits.length) return;
    box.replaceChildren(
      h("h2", { id: "related-title" }, "Tin bài liên quan"),
      h(
        "ul",
        { class: "related-list" },
        hits.map((hit) =>
          h(
            "li",
            {},
            h("a", { href: articlePath(hit.id) }, hit.title || hit.id),
            h("span", { class: "related-meta" }, [formatDate(hit.date), hit.category].filter(Boolean).join(" · ")),
          ),
        ),
      ),
    );
    box.hidden = false;
  }

  // ------------------------------------------------------------------ autocomplete
  function setupAutocomplete() {
    const input = $("q");
    const list = $("suggestions");
    let items = [];
    let active = -1;
    let timer = 0;
    let abort = null;
    let seq = 0;

    function close() {
      list.hidden = true;
      list.replaceChildren();
      items = [];
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      active = index;
      list.querySelectorAll("[role=option]").forEach((li, i) => {
        li.setAttribute("aria-selected", String(i === index));
        if (i === index) li.scrollIntoView({ block: "nearest" });
      });
      if (index >= 0) input.setAttribute("aria-activedescendant", `suggestion-${index}`);
      else input.removeAttribute("aria-activedescendant");
    }

    function open(suggestions) {
      items = suggestions;
      active = -1;
      if (!items.length) return close();
      list.replaceChildren(
        ...items.map((item, i) =>
          h(
            "li",
            {
              id: `suggestion-${i}`,
              role: "option",
              "aria-selected": "false",
              class: "suggestion",
              onmousedown: (event) => event.preventDefault(),
              onclick: () => pick(i),
            },
            h("span", { class: "suggestion-text" }, item.text),
            KIND_LABELS[item.kind] ? h("span", { class: "suggestion-kind" }, KIND_LABELS[item.kind]) : null,
          ),
        ),
      );
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      input.removeAttribute("aria-activedescendant");
    }

    /** A title opens its article; an official filters by that official; others search. */
    function pick(index) {
      const item = items[index];
      close();
      if (!item) return;
      if (item.kind === "title" && item.id) {
        input.value = "";
        restoreScroll = null;
        pushUrl(articlePath(item.id));
        route();
        return;
      }
      if (item.kind === "official") {
        input.value = "";
        const base = current || readState("");
        navigate(with_(base, { q: "", official: addValue(base.official, item.text) }), { scroll: true });
        return;
      }
      input.value = item.text;
      search(item.text);
    }

    async function fetchSuggestions(text) {
      const mine = ++seq;
      if (abort) abort.abort();
      abort = new AbortController();
      let answer;
      try {
        const params = new URLSearchParams({ q: text, limit: String(SUGGEST_LIMIT) });
        answer = await getJSON("/suggest?" + params.toString(), abort.signal);
      } catch (err) {
        return;
      }
      if (mine !== seq || document.activeElement !== input) return;
      const suggestions = answer.ok && answer.body ? answer.body.suggestions || [] : [];
      open(suggestions.filter((s) => s && typeof s.text === "string" && s.text.trim()).slice(0, SUGGEST_LIMIT));
    }

    input.addEventListener("input", () => {
      window.clearTimeout(timer);
      const text = input.value.trim();
      if (text.length < 2) {
        seq++;
        close();
        return;
      }
      timer = window.setTimeout(() => fetchSuggestions(text), SUGGEST_DELAY_MS);
    });

    input.addEventListener("keydown", (event) => {
      const count = items.length;
      if (event.key === "ArrowDown" && count) {
        event.preventDefault();
        highlight(active + 1 >= count ? 0 : active + 1);
      } else if (event.key === "ArrowUp" && count) {
        event.preventDefault();
        highlight(active <= 0 ? count - 1 : active - 1);
      } else if (event.key === "Enter" && count && active >= 0) {
        event.preventDefault();
        pick(active);
      } else if (event.key === "Escape") {
        if (!list.hidden) {
          event.preventDefault();
          seq++;
          close();
        }
      } else if (event.key === "Tab") {
        close();
      }
    });

    input.addEventListener("blur", () => window.setTimeout(() => {
      if (document.activeElement !== input) {
        seq++;
        close();
      }
    }, 100));

    $("search-form").addEventListener("submit", (event) => {
      event.preventDefault();
      window.clearTimeout(timer);
      seq++;
      close();
      search(input.value.trim());
    });
  }

  /** A new query from the search box keeps the filters and the sort, from page 1. */
  function search(text) {
    const base = current || readState("");
    navigate(with_(base, { q: text }), { scroll: true });
  }

  // ------------------------------------------------------------------ start
  function start() {
    setupAutocomplete();
    $("sort").addEventListener("change", (event) => {
      if (current) navigate(with_(current, { sort: event.target.value }), { focusResults: false });
    });
    if (phone()) $("filters-details").open = false;
    if ("scrollRestoration" in history) history.scrollRestoration = "manual";
    window.addEventListener("scroll", () => {
      window.clearTimeout(saveTimer);
      saveTimer = window.setTimeout(saveScroll, 200);
    }, { passive: true });
    window.addEventListener("pagehide", saveScroll);
    document.addEventListener("click", (event) => {
      if (event.target.closest && event.target.closest("a[href]")) saveScroll();
    }, true);
    window.addEventListener("popstate", revisit);
    revisit();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
