// Run last (tools/book_pdf.py): what the printed page would show wrong; each list names the
// offending elements. No PDF is written when one is not empty.
() => {
  const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' +
    (el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 60) + '"';
  const visible = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const article = document.querySelector('article.bd-article') || document.body;
  const col = article.getBoundingClientRect();
  const maths = [...article.querySelectorAll('.math')];
  // TeX left in the prose (outside code, which may well show TeX on purpose)
  const rawTex = [];
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement.closest('pre, code, mjx-container, script, style, .cell_input, .cell_output')) continue;
    if (/\$\$|\\(frac|begin|mathbf|partial|sum|sqrt)\b/.test(n.textContent) && visible(n.parentElement))
      rawTex.push(n.textContent.trim().slice(0, 60));
  }
  // what sticks out of the column, or hides text: a code line past the margin, or a box that
  // would scroll on screen (paper cannot scroll, so it cuts)
  const wide = [], cutCode = [];
  const walk = el => {
    for (const c of el.children) {
      if (!visible(c) || c.tagName === 'SCRIPT' || c.tagName === 'STYLE') continue;
      const b = c.getBoundingClientRect();
      if (b.width > 0 && (b.right > col.right + 1 || b.left < col.left - 1)) {
        wide.push(describe(c) + ` (${Math.round(b.width)} px, the column ${Math.round(col.width)} px)`);
        continue;
      }
      if (c.scrollWidth > c.clientWidth + 1 && c.clientWidth > 0 &&
          (c.tagName === 'PRE' || getComputedStyle(c).overflowX !== 'visible')) {
        cutCode.push(describe(c) + ` (${c.scrollWidth} px of content in ${c.clientWidth} px)`);
        continue;
      }
      if (c.tagName.toLowerCase() !== 'mjx-container') walk(c);
    }
  };
  walk(article);
  return {
    pages: document.querySelectorAll('section[id^="document-"], div[id^="document-"], span[id^="document-"]').length,
    headings: [...article.querySelectorAll('h1')].filter(visible).length,
    math: maths.length,
    untypeset: maths.filter(m => !m.querySelector('mjx-container')).map(describe),
    mathErrors: [...document.querySelectorAll('mjx-merror')].map(e => e.getAttribute('data-mjx-error') || describe(e))
      // an undefined macro is not an error to MathJax: it shows its name in red (noundefined)
      .concat([...document.querySelectorAll('mjx-assistive-mml mtext[mathcolor="red"]')]
              .map(t => 'undefined macro ' + t.textContent)),
    rawTex,
    images: [...article.querySelectorAll('img')].filter(visible).length,
    brokenImages: [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src')),
    wide, cutCode,
  };
}
