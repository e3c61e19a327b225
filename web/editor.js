/* The editor's page (/editor): paste a draft, see the archive's related articles, each
 * with the passage that connects it to the draft (the snippet, its shared words marked).
 * The draft goes to POST /related as JSON; nothing is stored. Text from the API is
 * inserted as text; only the snippet is HTML, after checking it holds nothing but text
 * and <mark>.
 */
"use strict";

(function () {
  const LIMIT = 10;
  const SAFE_SNIPPET = /^(?:[^<>]|<mark>|<\/mark>)*$/;
  const $ = (id) => document.getElementById(id);

  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else node.setAttribute(key, String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function formatDate(iso) {
    const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || "");
    return m ? `${m[3]}/${m[2]}/${m[1]}` : "";
  }

  function articlePath(id) {
    return "/a/" + String(id).split("/").map(encodeURIComponent).join("/");
  }

  function passage(snippet) {
    const p = h("p", { class: "result-snippet" });
    if (SAFE_SNIPPET.test(snippet || "")) p.innerHTML = snippet || "";
    else p.textContent = (snippet || "").replace(/<[^>]*>/g, "");
    return p;
  }

  function renderHit(hit) {
    const shared = [];
    const p = passage(hit.snippet);
    p.querySelectorAll("mark").forEach((m) => {
      const word = m.textContent.toLowerCase();
      if (!shared.includes(word)) shared.push(word);
    });
    const meta = [formatDate(hit.date), hit.category].filter(Boolean).join(" · ");
    return h(
      "li",
      { class: "result" },
      h("h3", { class: "result-title" }, h("a", { href: articlePath(hit.id) }, hit.title || hit.id)),
      meta ? h("p", { class: "result-meta" }, meta) : null,
      h("p", { class: "connects" }, "Đoạn nối với bản thảo:"),
      p,
      shared.length ? h("p", { class: "shared-words" }, "Từ chung: " + shared.slice(0, 8).join(", ")) : null,
    );
  }

  function showError(message) {
    const error = $("draft-error");
    error.textContent = message;
    error.hidden = !message;
  }

  async function find(event) {
    event.preventDefault();
    const text = $("draft-text").value.trim();
    const title = $("draft-title").value.trim();
    showError("");
    if (!text) {
      showError("Hãy dán nội dung bản thảo trước khi tìm.");
      $("draft-text").focus();
      return;
    }
    const button = event.submitter || $("draft-form").querySelector("button");
    button.disabled = true;
    $("draft-status").textContent = "Đang tìm bài liên quan…";
    $("draft-results").replaceChildren();
    let resp = null;
    let body = null;
    try {
      resp = await fetch("/related", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ text, title, limit: LIMIT }),
      });
      body = await resp.json().catch(() => null);
    } catch (err) {
      resp = null;
    }
    button.disabled = false;
    if (!resp || !resp.ok || !body) {
      const status = resp ? resp.status : 0;
      $("draft-status").textContent = "";
      showError(
        status === 413
          ? "Bản thảo quá dài (tối đa 100 KB)."
          : status === 400
            ? "Bản thảo chưa hợp lệ. Hãy kiểm tra lại nội dung."
            : "Không kết nối được với dịch vụ tìm kiếm. Vui lòng thử lại.",
      );
      return;
    }
    const hits = body.hits || [];
    $("draft-status").textContent = hits.length
      ? `${hits.length} bài liên quan trong kho`
      : "Chưa tìm thấy bài nào liên quan trong kho.";
    $("draft-results").replaceChildren(...hits.map(renderHit));
  }

  function start() {
    $("draft-form").addEventListener("submit", find);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
