// A region that scrolls sideways (a long display equation, a wide table or output on a phone) can
// be reached with the keyboard and scrolled with the arrow keys: while its content is wider than
// it, it gets tabindex="0" (WCAG 2.1.1 Keyboard; axe-core's rule scrollable-region-focusable).
// An inline formula wider than the column is first marked .wide-inline, so that it scrolls.
(() => {
  const CANDIDATES = "article div.math, article mjx-container[display='true'], article table, " +
    "article .pst-scrollable-table-container, article div.cell_output, article pre";

  // the right edge of the content of the block that holds an inline element
  function contentRight(el) {
    const block = el.parentElement.closest("p, li, dd, dt, td, th, blockquote, div, section, article");
    return block.getBoundingClientRect().right - parseFloat(getComputedStyle(block).paddingRight || 0);
  }

  function mark() {
    // an inline formula that sticks out of its paragraph, list item or box scrolls by itself
    // (course.css: .wide-inline), so that it neither widens the page nor is cut by the box
    const inline = [...document.querySelectorAll("article mjx-container:not([display='true'])")];
    inline.forEach((m) => m.classList.remove("wide-inline"));
    const wide = inline.filter((m) => m.getBoundingClientRect().right > contentRight(m) + 1);
    wide.forEach((m) => m.classList.add("wide-inline"));
    document.querySelectorAll(CANDIDATES + ", article mjx-container.wide-inline").forEach((el) => {
      const scrolls = ["auto", "scroll"].includes(getComputedStyle(el).overflowX) &&
        el.scrollWidth > el.clientWidth + 1;
      if (scrolls && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0");
        el.dataset.scrollRegion = "";
      } else if (!scrolls && "scrollRegion" in el.dataset) {
        el.removeAttribute("tabindex");
        delete el.dataset.scrollRegion;
      }
    });
  }

  // again once MathJax has typeset the page (it loads after the page); then <html data-regions="marked">
  function afterMaths(tries) {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(() => { mark(); document.documentElement.dataset.regions = "marked"; });
    } else if (tries > 0 && document.querySelector(".math")) {
      setTimeout(() => afterMaths(tries - 1), 100);
    } else {
      document.documentElement.dataset.regions = "marked";
    }
  }

  let pending = null;
  window.addEventListener("load", () => { mark(); afterMaths(100); });
  window.addEventListener("resize", () => { clearTimeout(pending); pending = setTimeout(mark, 100); });
})();
