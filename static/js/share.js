// "Copy link" on an article: copies the article's address instead of following the link.
// Without this script (or a clipboard) the link simply opens the article's own address.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-copy-link]");
  if (!link || !navigator.clipboard) return;
  event.preventDefault();
  const status = document.querySelector("[data-copy-status]");
  navigator.clipboard.writeText(link.href).then(
    () => { if (status) status.textContent = "Link copied."; },
    () => { window.location.href = link.href; }
  );
});
