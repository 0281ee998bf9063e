// Search result snippets are cut from each page's HTML, where a formula is still its TeX source
// (MathJax typesets it only on the page itself): leave formulas out of the snippets.
(function () {
  function install() {
    if (typeof Search === "undefined" || Search.htmlToText.withoutMath) return;
    const original = Search.htmlToText;
    Search.htmlToText = (htmlString, anchor) => {
      const page = new DOMParser().parseFromString(htmlString, "text/html");
      page.querySelectorAll(".math").forEach((el) => el.replaceWith("\u2026"));
      return original(page.documentElement.outerHTML, anchor);
    };
    Search.htmlToText.withoutMath = true;
  }
  install();
  document.addEventListener("DOMContentLoaded", install);
})();
