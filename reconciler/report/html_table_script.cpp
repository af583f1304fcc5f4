#include "report/html_parts.hpp"

#include <openssl/evp.h>

#include <array>

namespace reconciler::detail {

namespace {

// Plain ES2017, no eval, no inline handlers (the CSP allows this script by
// its hash and nothing else). Rows are hidden with the `hidden` attribute.
inline constexpr std::string_view script = R"js(
(function () {
  'use strict';
  var states = {};
  function key(row, i) {
    var c = row.cells[i];
    if (!c) return '';
    var k = c.getAttribute('data-sort');
    return k !== null ? k : c.textContent.trim();
  }
  function apply(s) {
    var shown = 0, needle = s.text.value.trim().toLowerCase();
    s.rows.forEach(function (r) {
      var ok = true;
      Object.keys(s.selects).forEach(function (k) {
        var v = s.selects[k].value;
        if (v && r.getAttribute('data-' + k) !== v) ok = false;
      });
      if (ok && needle && r.textContent.toLowerCase().indexOf(needle) < 0) ok = false;
      r.hidden = !ok;
      if (ok) shown++;
    });
    s.count.textContent = shown + ' of ' + s.rows.length + ' rows';
  }
  function sortBy(s, col, dir) {
    var heads = s.table.tHead.rows[0].cells, num = heads[col].classList.contains('num');
    // Text by code unit, ignoring case: ids and emails sort the same everywhere.
    var order = s.rows.map(function (r, i) { return {r: r, i: i, k: key(r, col).toLowerCase()}; });
    order.sort(function (a, b) {
      var c = num ? (parseFloat(a.k) || 0) - (parseFloat(b.k) || 0) : (a.k < b.k ? -1 : a.k > b.k ? 1 : 0);
      return c * dir || a.i - b.i;
    });
    var frag = document.createDocumentFragment();
    order.forEach(function (o) { frag.appendChild(o.r); });
    s.body.appendChild(frag);
    Array.prototype.forEach.call(heads, function (th, i) {
      th.setAttribute('aria-sort', i === col ? (dir > 0 ? 'ascending' : 'descending') : 'none');
    });
    s.col = col;
    s.dir = dir;
  }
  function setup(table) {
    var body = table.tBodies[0];
    if (!body || !table.tHead) return;
    var s = {table: table, body: body, rows: Array.prototype.slice.call(body.rows), selects: {}, col: -1, dir: 1};
    var bar = document.createElement('div');
    bar.className = 'filters';
    table.getAttribute('data-filters').split(' ').forEach(function (k) {
      var counts = {};
      s.rows.forEach(function (r) {
        var v = r.getAttribute('data-' + k);
        if (v) counts[v] = (counts[v] || 0) + 1;
      });
      var names = Object.keys(counts).sort();
      if (!names.length) return;
      var label = document.createElement('label'), sel = document.createElement('select');
      label.textContent = k + ' ';
      sel.setAttribute('data-filter', k);
      var all = document.createElement('option');
      all.value = '';
      all.textContent = 'all';
      sel.appendChild(all);
      names.forEach(function (n) {
        var o = document.createElement('option');
        o.value = n;
        o.textContent = n + ' (' + counts[n] + ')';
        sel.appendChild(o);
      });
      sel.addEventListener('change', function () { apply(s); });
      label.appendChild(sel);
      bar.appendChild(label);
      s.selects[k] = sel;
    });
    s.text = document.createElement('input');
    s.text.type = 'search';
    s.text.placeholder = 'contains\u2026';
    s.text.setAttribute('data-filter', 'q');
    s.text.addEventListener('input', function () { apply(s); });
    bar.appendChild(s.text);
    s.count = document.createElement('span');
    s.count.className = 'muted small';
    s.count.setAttribute('data-shown', table.id);
    bar.appendChild(s.count);
    table.parentNode.insertBefore(bar, table);
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      var b = document.createElement('button');
      b.type = 'button';
      b.className = 'sort';
      b.textContent = th.textContent;
      th.textContent = '';
      th.appendChild(b);
      th.setAttribute('aria-sort', 'none');
      b.addEventListener('click', function () { sortBy(s, i, s.col === i ? -s.dir : 1); });
    });
    apply(s);
    states[table.id] = s;
  }
  function fromHash() {
    var h = location.hash.slice(1), q = h.indexOf('?');
    if (q < 0) return;
    var s = states[decodeURIComponent(h.slice(0, q))];
    if (!s) return;
    var col = -1, dir = 1;
    Object.keys(s.selects).forEach(function (k) { s.selects[k].value = ''; });
    s.text.value = '';
    h.slice(q + 1).split('&').forEach(function (p) {
      var eq = p.indexOf('='), k = decodeURIComponent(p.slice(0, eq < 0 ? p.length : eq));
      var v = eq < 0 ? '' : decodeURIComponent(p.slice(eq + 1).replace(/\+/g, ' '));
      if (k === 'sort') {
        Array.prototype.forEach.call(s.table.tHead.rows[0].cells, function (th, i) {
          if (th.getAttribute('data-key') === v) col = i;
        });
      } else if (k === 'dir') {
        dir = v === 'desc' ? -1 : 1;
      } else if (k === 'q') {
        s.text.value = v;
      } else if (s.selects[k]) {
        s.selects[k].value = v;
      }
    });
    apply(s);
    if (col >= 0) sortBy(s, col, dir);
    s.table.scrollIntoView();
  }
  Array.prototype.forEach.call(document.querySelectorAll('table[data-filters]'), setup);
  document.documentElement.classList.add('js');
  window.addEventListener('hashchange', fromHash);
  fromHash();
})();
)js";

inline constexpr std::string_view style = R"css(
.filters { display: flex; flex-wrap: wrap; gap: .4rem 1rem; align-items: center; margin: .4rem 0; }
.filters select, .filters input { font: inherit; font-size: .9em; }
button.sort { font: inherit; font-weight: 600; background: none; border: 0; padding: 0; cursor: pointer; color: inherit; }
th[aria-sort="ascending"] button.sort::after { content: " \25B2"; font-size: .7em; }
th[aria-sort="descending"] button.sort::after { content: " \25BC"; font-size: .7em; }
section.actions { border: 1px solid #d0d7de; border-radius: 8px; padding: .2rem 1rem .6rem; margin: 1rem 0 1.5rem; }
section.actions h2 { margin-top: .8rem; border: 0; }
section.actions p { margin: .35rem 0; }
a.stripe { color: #0a58ca; text-decoration: none; }
a.stripe:hover { text-decoration: underline; }
details.manifest > summary { cursor: pointer; font-size: 1.15rem; font-weight: 600; margin: 2.2rem 0 .6rem; }
svg.trend { max-width: 100%; height: auto; font: 11px system-ui, sans-serif; }
svg.trend text { fill: #1f2328; }
.legend { display: flex; flex-wrap: wrap; gap: .2rem 1rem; font-size: .85em; margin: .2rem 0 .8rem; }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; vertical-align: -1px; margin-right: .25rem; }
tr:target { background: #fff8c5; }
@media print { .filters { display: none; } }
)css";

std::string sha256_base64(std::string_view text) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int len = 0;
    if (EVP_Digest(text.data(), text.size(), digest.data(), &len, EVP_sha256(), nullptr) != 1) return {};
    std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> b64{};
    const int n = EVP_EncodeBlock(b64.data(), digest.data(), static_cast<int>(len));
    return std::string(reinterpret_cast<const char*>(b64.data()), static_cast<std::size_t>(n));
}

}  // namespace

std::string_view table_script() { return script; }

const std::string& table_script_csp_source() {
    // Computed from the script itself, so an edit to it cannot leave a stale hash.
    static const std::string source = "'sha256-" + sha256_base64(script) + "'";
    return source;
}

std::string_view extra_style() { return style; }

}  // namespace reconciler::detail
