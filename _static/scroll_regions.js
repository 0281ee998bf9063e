// A region that scrolls sideways (a long display equation, a wide table or output on a phone) can
// be reached with the keyboard and scrolled with the arrow keys: while its content is wider than
// it, it gets tabindex="0" (WCAG 2.1.1 Keyboard; axe-core's rule scrollable-region-focusable).
// An inline formula wider than the column is first marked .wide-inline, so that it scrolls.
(() => {
  const CANDIDATES = "article div.math, article mjx-container[display='true'], article table, " +
    "article .pst-scrollable-table-container, article div.cell_output, article pre";

  function mark() {
    // an inline formula wider than the text column scrolls by itself (course.css: .wide-inline)
    const column = document.querySelector("article.bd-article") || document.body;
    const right = column.getBoundingClientRect().right;
    document.querySelectorAll("article mjx-container:not([display='true'])").forEach((m) => {
      m.classList.remove("wide-inline");
      if (m.getBoundingClientRect().right > right + 1) m.classList.add("wide-inline");
    });
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
