/* Search-box autocomplete for a portal page, served by the search service at /embed.js:
 *
 *   <input id="my-search" type="search">
 *   <script src="https://search.example.vn/embed.js" data-input="#my-search"></script>
 *
 * docs/embedding.md is the guide. Suggestions come from the service's GET /suggest (its
 * origin is the one this script was loaded from); a title opens its article, an official
 * the search filtered to them; Enter, or the input's own form, opens <origin>/?q=….
 * The service answers the portal's calls only when its origin is listed in
 * VNSEARCH_CORS_ORIGINS: the service writes that list into CONFIG below, and when this
 * page's origin is missing the console says so, with the fix.
 * Optional: data-limit (suggestions shown, default 8).
 */
(function () {
  "use strict";

  const CONFIG = /*SITE*/ {} /*END*/;
  const script = document.currentScript;
  if (!script || !script.src) return;
  const origin = new URL(script.src, location.href).origin;
  const accent = /^#[0-9a-fA-F]{3,6}$/.test(CONFIG.accent || "") ? CONFIG.accent : "#0b4f9c";
  const sameOrigin = location.origin === origin;
  const allowed = sameOrigin || !Array.isArray(CONFIG.origins) ||
    CONFIG.origins.includes("*") || CONFIG.origins.includes(location.origin);
  const listed = Array.isArray(CONFIG.origins) && CONFIG.origins.length ? CONFIG.origins.join(", ") : "none";
  let reported = false;

  /** Say once, in the console, why suggestions cannot be fetched, and how to fix it. */
  function reportFailure() {
    if (reported) return;
    reported = true;
    if (!allowed) {
      console.error(
        `vnsearch embed.js: ${origin} does not allow pages of ${location.origin} to ask for suggestions. ` +
          `Fix: add ${location.origin} to VNSEARCH_CORS_ORIGINS where the search service runs ` +
          `(now: ${listed}), then restart it (guide: docs/embedding.md).`,
      );
    } else {
      console.error(
        `vnsearch embed.js: the request for suggestions to ${origin} did not get through ` +
          `although ${location.origin} may call it. The service is down, or a proxy in front ` +
          "of it drops the Access-Control-Allow-Origin header.",
      );
    }
  }
  const selector = script.getAttribute("data-input");
  const limit = Math.min(20, Math.max(1, parseInt(script.getAttribute("data-limit") || "8", 10) || 8));
  const PREFIX = "vnsearch-embed";
  const CSS = `
.${PREFIX}-list{position:absolute;z-index:2147483000;margin:0;padding:4px 0;list-style:none;
background:#fff;border:1px solid #c5ccd6;border-radius:6px;box-shadow:0 10px 24px rgba(20,30,50,.16);
font:15px/1.4 "Segoe UI",Roboto,Arial,"Liberation Sans",sans-serif;color:#1d2330;max-height:340px;overflow-y:auto;text-align:left}
.${PREFIX}-list[hidden]{display:none}
.${PREFIX}-option{padding:7px 14px;cursor:pointer}
.${PREFIX}-option:hover{background:#f1f4f8}
.${PREFIX}-option[aria-selected="true"]{background:#e4edfa;box-shadow:inset 3px 0 0 ${accent}}`;

  let counter = 0;

  function searchUrl(text) {
    return origin + "/?" + new URLSearchParams({ q: text }).toString();
  }

  /** Where a suggestion leads: a title to its article, an official to the filter. */
  function suggestionUrl(item) {
    if (item.kind === "title" && item.id) {
      return origin + "/a/" + String(item.id).split("/").map(encodeURIComponent).join("/");
    }
    if (item.kind === "official") return origin + "/?" + new URLSearchParams({ official: item.text });
    return searchUrl(item.text.trim());
  }

  function addStyle() {
    if (document.getElementById(PREFIX + "-style")) return;
    const style = document.createElement("style");
    style.id = PREFIX + "-style";
    style.textContent = CSS;
    document.head.appendChild(style);
  }

  function attach(input) {
    const id = `${PREFIX}-list-${++counter}`;
    const list = document.createElement("ul");
    list.id = id;
    list.className = PREFIX + "-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Gợi ý tìm kiếm");
    list.hidden = true;
    document.body.appendChild(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", id);
    input.setAttribute("autocomplete", "off");

    let items = [];
    let active = -1;
    let timer = 0;
    let seq = 0;
    let abort = null;

    function place() {
      const box = input.getBoundingClientRect();
      list.style.left = `${box.left + window.scrollX}px`;
      list.style.top = `${box.bottom + window.scrollY + 4}px`;
      list.style.width = `${Math.max(box.width, 220)}px`;
    }

    function close() {
      items = [];
      active = -1;
      list.hidden = true;
      list.textContent = "";
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      active = index;
      Array.prototype.forEach.call(list.children, (li, i) => {
        li.setAttribute("aria-selected", String(i === index));
      });
      if (index >= 0) input.setAttribute("aria-activedescendant", `${id}-${index}`);
      else input.removeAttribute("aria-activedescendant");
    }

    function open(suggestions) {
      items = suggestions;
      active = -1;
      list.textContent = "";
      if (!items.length) return close();
      items.forEach((item, i) => {
        const li = document.createElement("li");
        li.id = `${id}-${i}`;
        li.className = PREFIX + "-option";
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent = item.text;
        li.addEventListener("mousedown", (event) => event.preventDefault());
        li.addEventListener("click", () => choose(item));
        list.appendChild(li);
      });
      place();
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function go(text) {
      close();
      input.value = text;
      if (text.trim()) window.location.assign(searchUrl(text.trim()));
    }

    function choose(item) {
      close();
      input.value = item.text;
      window.location.assign(suggestionUrl(item));
    }

    async function suggest(text) {
      const mine = ++seq;
      if (abort) abort.abort();
      abort = new AbortController();
      let body;
      try {
        const params = new URLSearchParams({ q: text, limit: String(limit) });
        const resp = await fetch(`${origin}/suggest?${params}`, {
          signal: abort.signal,
          credentials: "omit",
        });
        if (!resp.ok) return;
        body = await resp.json();
      } catch (err) {
        // offline, or this page's origin is not allowed: the box stays a plain box
        if (err.name !== "AbortError") reportFailure();
        return;
      }
      if (mine !== seq || document.activeElement !== input) return;
      const suggestions = (body && body.suggestions) || [];
      open(suggestions.filter((s) => s && typeof s.text === "string" && s.text.trim()).slice(0, limit));
    }

    input.addEventListener("input", () => {
      window.clearTimeout(timer);
      const text = input.value.trim();
      if (text.length < 2) {
        seq++;
        close();
        return;
      }
      timer = window.setTimeout(() => suggest(text), 120);
    });

    input.addEventListener("keydown", (event) => {
      const count = items.length;
      if (event.key === "ArrowDown" && count) {
        event.preventDefault();
        highlight(active + 1 >= count ? 0 : active + 1);
      } else if (event.key === "ArrowUp" && count) {
        event.preventDefault();
        highlight(active <= 0 ? count - 1 : active - 1);
      } else if (event.key === "Enter") {
        event.preventDefault();
        if (active >= 0 && items[active]) choose(items[active]);
        else go(input.value);
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        seq++;
        close();
      } else if (event.key === "Tab") {
        close();
      }
    });

    input.addEventListener("blur", () => {
      window.setTimeout(() => {
        if (document.activeElement !== input) {
          seq++;
          close();
        }
      }, 100);
    });

    if (input.form) {
      input.form.addEventListener("submit", (event) => {
        event.preventDefault();
        go(input.value);
      });
    }
    window.addEventListener("resize", () => list.hidden || place());
  }

  function start() {
    const input = selector ? document.querySelector(selector) : null;
    if (!input) {
      console.warn(`vnsearch embed.js: no input matches data-input=${JSON.stringify(selector)}`);
      return;
    }
    addStyle();
    attach(input);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
