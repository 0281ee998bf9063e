// On a narrow screen a wide figure is shrunk to the column: each figure of a cell's output is also a
// link to the image itself, which a reader opens at full size (and can zoom into) with one tap.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".cell_output img").forEach((img) => {
    if (img.closest("a")) return;
    const link = document.createElement("a");
    link.href = img.src;
    link.className = "figure-zoom";
    link.title = "Open the figure at full size";
    img.replaceWith(link);
    link.appendChild(img);
  });
});
