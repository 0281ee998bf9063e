// Run second (tools/book_pdf.py): make the web pages a book. The single page has the book's pages
// in order but not its parts, answers to the exercises right under their questions, and six
// levels of headings. Called with parts = [[first chapter's docname, caption], ...]: a title page
// for each part (an h2, so the outline nests its chapters); every exercise's answer moved to
// "Answers to the exercises" at the end of its chapter, with a link each way; h6 headings set as
// bold paragraphs, so the PDF's outline stops at the pages' sections. Returns the counts, and the
// parts whose chapter is missing.
(parts) => {
  const article = document.querySelector('article.bd-article') || document.body;
  const text = el => { const c = el.cloneNode(true); c.querySelectorAll('.headerlink, button').forEach(x => x.remove());
                       return c.textContent.trim().replace(/\s+/g, ' '); };
  const make = (tag, cls, content) => { const e = document.createElement(tag); e.className = cls;
                                        if (content) e.textContent = content; return e; };
  const done = {parts: 0, answers: 0, missingParts: []};
  for (const [doc, caption] of parts) {
    const span = document.getElementById('document-' + doc);
    if (!span) { done.missingParts.push(doc); continue; }
    const part = make('section', 'book-part');
    part.appendChild(make('h2', 'book-part-title', caption));
    span.parentNode.insertBefore(part, span);
    done.parts++;
  }
  const titleOf = el => el.querySelector('.admonition-title');
  const isAnswer = a => titleOf(a) && /^Answer\b/.test(text(titleOf(a)));
  for (const span of article.querySelectorAll('span[id^="document-chapters/"][id$="/index"]')) {
    const chapter = span.nextElementSibling;
    const answers = chapter ? [...chapter.querySelectorAll('div.admonition.dropdown')].filter(isAnswer) : [];
    if (!answers.length) continue;
    const number = (span.id.match(/chapters\/0*(\d+)/) || [])[1] || '';
    const block = make('section', 'book-answers');
    block.appendChild(make('h4', 'book-answers-title', `Answers to the exercises of chapter ${number}`));
    let lastPage = null;
    answers.forEach((answer, k) => {
      const label = `${number}.${k + 1}`, id = `book-answer-${number}-${k + 1}`;
      let page = answer.closest('section');
      while (page && !(page.previousElementSibling && /^document-/.test(page.previousElementSibling.id || '')))
        page = page.parentElement.closest('section');
      const exercise = answer.previousElementSibling;
      const asked = exercise && titleOf(exercise) && /^Exercise\b/.test(text(titleOf(exercise))) ? exercise : null;
      if (asked && !asked.id) asked.id = `book-exercise-${number}-${k + 1}`;
      if (page && page !== lastPage) {
        block.appendChild(make('p', 'book-answers-page', text(page.querySelector('h1, h2, h3, h4, h5, h6'))));
        lastPage = page;
      }
      const moved = make('div', 'book-answer'); moved.id = id;
      const head = make('p', 'book-answer-title');
      const back = make('a', '', `Answer ${label}` + (asked ? ` (${text(titleOf(asked))})` : ''));
      if (asked) back.href = '#' + asked.id;
      head.appendChild(back); moved.appendChild(head);
      [...answer.children].filter(c => c !== titleOf(answer)).forEach(c => moved.appendChild(c));
      block.appendChild(moved);
      const pointer = make('p', 'book-answer-pointer');
      const there = make('a', '', `Answer ${label}`); there.href = '#' + id;
      pointer.append(there, ' is at the end of the chapter.');
      answer.replaceWith(pointer);
      done.answers++;
    });
    chapter.appendChild(block);
  }
  // the contents page lists the parts too: as headings they would enter the outline twice
  document.querySelectorAll('#jb-print-toc [role="heading"]').forEach(c => {
    c.removeAttribute('role'); c.removeAttribute('aria-level'); });
  for (const h of [...article.querySelectorAll('h6')]) {
    const p = make('p', 'book-h6'); if (h.id) p.id = h.id;
    while (h.firstChild) p.appendChild(h.firstChild);
    h.replaceWith(p);
  }
  return done;
}
