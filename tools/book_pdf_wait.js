// Run first, before printing (tools/book_pdf.py): load every image now (not lazily) and wait for
// MathJax to typeset the page.
async () => {
  const imgs = [...document.images];
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.decode().catch(() => null)));
  if (document.querySelector('.math')) {
    for (let t = 0; t < 600 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); t++)
      await new Promise(r => setTimeout(r, 50));
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  }
}
