// Run third (tools/book_pdf.py): open what is folded and scale down what is still wider than the
// column after the print CSS wrapped code. Returns what was scaled.
async () => {
  // sphinx-togglebutton opens them on 'beforeprint', which a headless print does not send
  document.querySelectorAll('.admonition.toggle.toggle-hidden').forEach(a => a.classList.remove('toggle-hidden'));
  document.querySelectorAll('details.toggle-details, details.source-listing').forEach(d => { d.open = true; });
  await document.fonts.ready;
  const scaled = [];
  const article = document.querySelector('article.bd-article') || document.body;
  const fit = el => {
    const parent = el.parentElement.getBoundingClientRect();
    const avail = Math.min(parent.width, article.getBoundingClientRect().width);
    const w = Math.max(el.scrollWidth, el.getBoundingClientRect().width);
    if (avail > 0 && w > avail + 1) { el.style.zoom = (avail / w).toFixed(3); scaled.push(el.tagName.toLowerCase()); }
  };
  article.querySelectorAll('mjx-container[display="true"], table, div.cell_output img, figure img').forEach(fit);
  // an inline formula cannot break across lines: one longer than its paragraph's line is scaled
  article.querySelectorAll('mjx-container:not([display="true"])').forEach(m => {
    const block = m.parentElement.closest('p, li, dd, td, div');
    if (!block) return;
    const cs = getComputedStyle(block);
    const line = block.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    const w = m.getBoundingClientRect().width;
    if (line > 0 && w > line + 1) { m.style.zoom = (line / w).toFixed(3); scaled.push('inline formula'); }
  });
  // a text table that an HTML output asks not to wrap (rich's, as Keras's model.summary() writes,
  // is a <pre style="white-space: pre">); code itself wraps (course.css)
  article.querySelectorAll('pre').forEach(p => {
    if (p.style.whiteSpace && p.clientWidth > 0 && p.scrollWidth > p.clientWidth + 1) {
      p.style.zoom = (p.clientWidth / p.scrollWidth).toFixed(3); p.style.overflow = 'visible'; scaled.push('pre');
    }
  });
  return scaled;
}
